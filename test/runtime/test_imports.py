"""The runtime's own imports: none runs once the program has started (imports.py lends the program
what the runtime imported first, and an import at that time would put modules into its sys.modules,
or import the program's own module of that name), and how recorded imports are named."""

import ast
import glob
import os
import unittest

from runtime_support import RUNTIME
from loopscope import imports

RUNTIME_FILES = sorted(glob.glob(os.path.join(RUNTIME, "loopscope", "*.py")))


# Code that runs while the program runs by design, whose imports the program may see.
RUN_INSIDE_A_RUNNING_PROGRAM = {
    "bootstrap.py": "an attach runs it in a program that is running already; it imports only the few "
                    "modules an attach needs, and the runtime under a private name",
    "__init__.py": "loopscope.listen(), which the program itself calls, as it would any library",
}


class NoImportsOnceTheProgramRuns(unittest.TestCase):
    def test_every_import_of_the_runtime_is_at_module_level(self):
        late = []
        for path in RUNTIME_FILES:
            if os.path.basename(path) in RUN_INSIDE_A_RUNNING_PROGRAM:
                continue
            with open(path, "r", encoding="utf-8") as source:
                tree = ast.parse(source.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                    for inner in ast.walk(node):
                        if isinstance(inner, (ast.Import, ast.ImportFrom)):
                            late.append("%s:%d" % (os.path.basename(path), inner.lineno))
        self.assertEqual(late, [], "imports that would run while the program runs")


class RecordedNames(unittest.TestCase):
    def test_absolute_names(self):
        package = {"__package__": "asyncio", "__name__": "asyncio.events"}
        self.assertEqual(imports._absolute_name("os", package, 0), "os")
        self.assertEqual(imports._absolute_name("futures", package, 1), "asyncio.futures")
        self.assertEqual(imports._absolute_name("", package, 1), "asyncio")
        self.assertEqual(imports._absolute_name("x", {"__package__": "a.b"}, 2), "a.x")
        self.assertEqual(imports._absolute_name("x", {"__name__": "a.b", "__path__": []}, 1), "a.b.x")
        self.assertIsNone(imports._absolute_name("x", {"__package__": "a"}, 3), "beyond the top-level package")


if __name__ == "__main__":
    unittest.main()
