"""Completions in the Debug Console, worked out without running any of the program's code.

VS Code asks as the user types, unprompted, so nothing here may call a property, a __getattr__, a
__dir__, a __repr__ or a dict subclass's methods. What is offered:
- a name being typed: the frame's locals, its globals, the builtins, Python's keywords;
- after `value.`: the names in the instance's own __dict__ and in the dicts of its type and the
  type's bases (a class: its own and its bases', then its metaclass's); `value` itself must be a
  chain of names and attributes that can be read without running code (a property cannot);
- after `value[`: the keys of a dict whose keys are plain builtins (str, int, ...), by their repr.
"""

import builtins
import itertools
import keyword
import re
import sys
import types

from .frameedit import frame_locals, is_function_frame

MAX_TARGETS = 1000
_NAME = r"[^\W\d]\w*"
_CHAIN = r"%s(?:\s*\.\s*%s)*" % (_NAME, _NAME)
_KEY_AFTER = re.compile(r"(%s)\s*\[\s*((?:[rRbB]?['\"][^'\"\]]*)?|-?\d*)$" % _CHAIN)
_ATTRIBUTE_AFTER = re.compile(r"(%s)\s*\.\s*(%s|)$" % (_CHAIN, _NAME))
_NAME_AT_END = re.compile(r"(?<![\w.])(%s|)$" % _NAME)

_TYPE_DICT = type.__dict__["__dict__"]   # a class's own namespace, read with type's own descriptor
_TYPE_MRO = type.__dict__["__mro__"]
_SAFE_DESCRIPTORS = (types.GetSetDescriptorType, types.MemberDescriptorType)
_PLAIN_KEYS = (str, bytes, int, bool, type(None))
_CALLABLE_KINDS = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.BuiltinMethodType,
                   staticmethod, classmethod, types.MethodDescriptorType, types.WrapperDescriptorType)


def complete(text, frame):
    """(fragment, [{label, type}]): what the end of text is completed with; fragment is the part
    of text each label replaces."""
    match = _KEY_AFTER.search(text)
    if match:
        target = _resolve(match.group(1), frame)
        fragment = match.group(2)
        return fragment, _keys(target, fragment) if target is not _UNKNOWN else []
    match = _ATTRIBUTE_AFTER.search(text)
    if match:
        target = _resolve(match.group(1), frame)
        fragment = match.group(2)
        return fragment, _attributes(target, fragment) if target is not _UNKNOWN else []
    match = _NAME_AT_END.search(text)
    fragment = match.group(1) if match else ""
    if match is None or (fragment == "" and text and not text[-1].isspace() and text[-1] not in "([{,=:;+-*/%<>!&|^~@"):
        return "", []
    return fragment, _names(frame, fragment)


_UNKNOWN = object()


def _scope(frame):
    """The frame's names: locals over globals over builtins (read without running code)."""
    names = dict(vars(builtins))
    if frame is None:  # as evaluate: the __main__ module's names
        names.update(vars(sys.modules["__main__"]))
        return names
    names.update(frame.f_globals)
    if is_function_frame(frame):
        names.update(frame_locals(frame))
    return names


def _names(frame, fragment):
    names = _scope(frame)
    found = [(name, _kind(value, "variable")) for name, value in names.items()
             if isinstance(name, str) and name.startswith(fragment)]
    found += [(word, "keyword") for word in keyword.kwlist if word.startswith(fragment) and word not in names]
    return _targets(found)


def _resolve(chain, frame):
    """The value a chain of names and attributes stands for, read statically; _UNKNOWN if that
    would take running code (a property, __getattr__) or a name is not there."""
    parts = [part.strip() for part in chain.split(".")]
    names = _scope(frame)
    value = names.get(parts[0], _UNKNOWN)
    for part in parts[1:]:
        if value is _UNKNOWN:
            break
        value = _static_attribute(value, part)
    return value


def _class_dicts(kind):
    """The namespaces of a class and its bases, in lookup order."""
    try:
        return [_TYPE_DICT.__get__(base) for base in _TYPE_MRO.__get__(kind)]
    except Exception:
        return []


def _instance_dict(value):
    """The instance's own __dict__, if its type keeps it the ordinary way (no property of the program's)."""
    for namespace in _class_dicts(type(value)):
        if "__dict__" in namespace:
            descriptor = namespace["__dict__"]
            if type(descriptor) in _SAFE_DESCRIPTORS:
                try:
                    found = descriptor.__get__(value, type(value))
                except Exception:
                    return None
                return found if type(found) is dict else None
            return None
    return None


def _static_attribute(value, name):
    class_value = _UNKNOWN
    for namespace in _class_dicts(type(value)):
        if name in namespace:
            class_value = namespace[name]
            break
    is_class = issubclass(type(value), type)
    own = _class_dicts(value) if is_class else [_instance_dict(value) or {}]
    if class_value is not _UNKNOWN and _has_in_type(class_value, "__set__") and not is_class:
        # A data descriptor wins over the instance dict: a slot or a C getter is read, a property is code.
        if type(class_value) not in _SAFE_DESCRIPTORS:
            return _UNKNOWN
        try:
            return class_value.__get__(value, type(value))
        except Exception:
            return _UNKNOWN
    for namespace in own:
        if name in namespace:
            found = namespace[name]
            if is_class and _has_in_type(found, "__get__") and type(found) not in _CALLABLE_KINDS:
                return _UNKNOWN
            return found
    if class_value is _UNKNOWN or (_has_in_type(class_value, "__get__") and type(class_value) not in _CALLABLE_KINDS):
        return _UNKNOWN
    return class_value


def _has_in_type(value, method):
    return any(method in namespace for namespace in _class_dicts(type(value)))


def _attributes(value, fragment):
    kind = type(value)
    found = {}
    if issubclass(kind, type):
        sources = _class_dicts(value) + _class_dicts(kind)
    else:
        sources = [_instance_dict(value) or {}] + _class_dicts(kind)
    for namespace in sources:
        for name, member in list(namespace.items()):
            if isinstance(name, str) and name.startswith(fragment) and name not in found:
                found[name] = _kind(member, "property")
    return _targets(found.items())


def _keys(value, fragment):
    if not issubclass(type(value), dict):
        return []
    labels = []
    for key in itertools.islice(dict.keys(value), 100000):
        if type(key) not in _PLAIN_KEYS:
            continue
        label = repr(key)
        if fragment[:1] == '"' and type(key) is str and label[:1] == "'" and '"' not in key:
            label = '"%s"' % label[1:-1]  # the quote the user typed
        if label.startswith(fragment):
            labels.append((label, "value"))
            if len(labels) >= MAX_TARGETS:
                break
    return [{"label": label, "type": kind} for label, kind in labels]


def _kind(value, default):
    kind = type(value)
    if kind is types.ModuleType:
        return "module"
    if issubclass(kind, type):
        return "class"
    if kind in (types.FunctionType, types.BuiltinFunctionType, staticmethod, classmethod):
        return "function"
    if kind in (types.MethodType, types.BuiltinMethodType, types.MethodDescriptorType, types.WrapperDescriptorType):
        return "method"
    if kind is property:
        return "property"
    return default


def _targets(pairs):
    """Sorted as a user reads them: public names first, then _private, then __dunder__."""
    ordered = sorted(pairs, key=lambda pair: (pair[0].startswith("__"), pair[0].startswith("_"), pair[0]))
    return [{"label": name, "type": kind} for name, kind in ordered[:MAX_TARGETS]]
