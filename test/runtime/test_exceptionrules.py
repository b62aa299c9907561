"""Which exceptions stop (exceptionrules.py): filter conditions as class names or expressions, DAP
exception options by class, and how the two combine. Plain data, no program."""

import json
import unittest

from loopscope.exceptionrules import ExceptionRules, nearest_named


class Failure(LookupError):
    pass


def evaluate_in(names):
    return lambda code: eval(code, dict(names))


NOTHING = evaluate_in({})


class ClassNames(unittest.TestCase):
    def test_a_name_matches_the_class_or_a_base_by_name_qualified_name_or_module(self):
        self.assertEqual(nearest_named(KeyError, ("KeyError",)), 0)
        self.assertEqual(nearest_named(KeyError, ("LookupError",)), 1)
        self.assertEqual(nearest_named(KeyError, ("builtins.LookupError",)), 1)
        self.assertEqual(nearest_named(Failure, ("ClassNames",)), None)
        self.assertEqual(nearest_named(Failure, ("%s.Failure" % __name__,)), 0)
        # A package of the class's module will do: json.JSONDecodeError is json.decoder's.
        self.assertEqual(nearest_named(json.JSONDecodeError, ("json.JSONDecodeError",)), 0)
        self.assertEqual(nearest_named(json.JSONDecodeError, ("ValueError",)), 1)
        self.assertIsNone(nearest_named(json.JSONDecodeError, ("js.JSONDecodeError", "KeyError")))


class Conditions(unittest.TestCase):
    def rules(self, condition, moment="raised"):
        rules = ExceptionRules()
        results = rules.set([], [{"filter": moment, "condition": condition}])
        self.assertEqual(results, [{"verified": True}])
        return rules

    def test_class_names_that_resolve_where_the_exception_is(self):
        rules = self.rules("KeyError, Failure")
        where = evaluate_in({"Failure": Failure})
        self.assertTrue(rules.stops("raised", KeyError("k"), where))
        self.assertTrue(rules.stops("raised", Failure(), where))
        self.assertFalse(rules.stops("raised", IndexError(), where))

    def test_class_names_that_do_not_resolve_are_matched_by_name(self):
        rules = self.rules("json.JSONDecodeError")
        error = json.JSONDecodeError("bad", "{", 0)
        self.assertTrue(rules.stops("raised", error, NOTHING))
        self.assertFalse(rules.stops("raised", ValueError(), NOTHING))

    def test_an_expression_with_exception_bound(self):
        rules = self.rules("'end' in str(exception)")
        self.assertTrue(rules.stops("raised", ValueError("the end"), lambda code: eval(code, {"exception": ValueError("the end")})))
        self.assertFalse(rules.stops("raised", ValueError("x"), lambda code: eval(code, {"exception": ValueError("x")})))

    def test_a_name_the_code_has_not_assigned_yet_is_false(self):
        rules = self.rules("retries > 3")
        self.assertFalse(rules.stops("raised", ValueError(), NOTHING))

    def test_an_expression_that_raises_reaches_the_caller(self):
        rules = self.rules("1 / 0")
        with self.assertRaises(ZeroDivisionError):
            rules.stops("raised", ValueError(), NOTHING)

    def test_a_condition_that_is_not_python_is_refused(self):
        rules = ExceptionRules()
        results = rules.set(["uncaught"], [{"filter": "raised", "condition": "a b"}, {"filter": "taskSwitch", "condition": "x"}])
        self.assertEqual([r["verified"] for r in results], [True, False, False])
        self.assertIn("not a Python expression", results[1]["message"])
        self.assertIn("only the exception filters", results[2]["message"])
        self.assertFalse(rules.catching)
        self.assertTrue(rules.uncaught_wanted)


class Options(unittest.TestCase):
    def test_the_option_naming_the_nearest_class_wins(self):
        rules = ExceptionRules()
        rules.set(["raised"], (), [{"names": ["LookupError"], "breakMode": "never"},
                                   {"names": ["KeyError"], "breakMode": "always"},
                                   {"names": [], "breakMode": "unhandled"}])
        self.assertTrue(rules.stops("raised", KeyError(), NOTHING))
        self.assertFalse(rules.stops("raised", IndexError(), NOTHING), "never, for a LookupError")
        self.assertFalse(rules.stops("raised", ValueError(), NOTHING), "unhandled only, for the rest")
        self.assertTrue(rules.stops("uncaught", ValueError(), NOTHING))
        self.assertFalse(rules.stops("uncaught", IndexError(), NOTHING))

    def test_always_watches_raises_and_uncaught_without_filters(self):
        rules = ExceptionRules()
        rules.set([], (), [{"names": ["RuntimeError"], "breakMode": "always"}])
        self.assertTrue(rules.catching)
        self.assertTrue(rules.uncaught_wanted)
        self.assertTrue(rules.stops("raised", RuntimeError(), NOTHING))
        self.assertTrue(rules.stops("uncaught", RuntimeError(), NOTHING))
        self.assertFalse(rules.stops("raised", ValueError(), NOTHING))

    def test_negate_means_all_but_these(self):
        rules = ExceptionRules()
        rules.set([], (), [{"names": ["KeyError"], "negate": True, "breakMode": "unhandled"}])
        self.assertTrue(rules.stops("uncaught", ValueError(), NOTHING))
        self.assertFalse(rules.stops("uncaught", KeyError(), NOTHING))

    def test_a_tasks_exception_is_left_to_its_filter(self):
        rules = ExceptionRules()
        rules.set(["taskException"], (), [{"names": [], "breakMode": "unhandled"}])
        self.assertTrue(rules.stops("taskException", ValueError(), NOTHING))
        rules.set([], (), [{"names": [], "breakMode": "always"}])
        self.assertFalse(rules.stops("taskException", ValueError(), NOTHING))


if __name__ == "__main__":
    unittest.main()
