"""``--arch py:PATH.py:NAME``: the network class (or factory function) NAME defined in the
user's own Python file, built with ``--arch-kwargs`` (a JSON object) as keyword arguments.

Most robust checkpoints in the wild are state dicts of a module from the author's own
code. Importing that file runs it, with every permission the user has, so it needs the
same explicit trust as unpickling (``trust``), and is refused with UntrustedCodeError
otherwise. The file is run as a module of its own (top-level code runs; code under
``if __name__ == "__main__":`` does not), with its folder on ``sys.path`` while it runs
so it can import the files beside it.
"""

from __future__ import annotations

import json
import sys
import traceback
import types
from pathlib import Path
from typing import Any, Callable

from torch import nn

from visualizer.core.errors import ModelLoadError, ParameterError, UntrustedCodeError

PREFIX = "py:"
FORM = "py:PATH.py:NAME"


def parse_arch_kwargs(text: str | None) -> dict | None:
    """``--arch-kwargs``: a JSON object (e.g. '{"depth": 28, "widen_factor": 10}'); empty -> None.
    ParameterError naming the problem otherwise."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"--arch-kwargs is not valid JSON ({exc.msg} at character {exc.pos + 1}): {text!r}. "
                             'Write a JSON object such as {"transform_input": false, "depth": 28}.') from None
    if not isinstance(value, dict):
        raise ParameterError(f"--arch-kwargs must be a JSON object of keyword arguments such as "
                             f'{{"depth": 28}}, not a {type(value).__name__}: {text!r}.')
    return value


def is_py_arch(arch: str | None) -> bool:
    return bool(arch) and arch.strip().lower().startswith(PREFIX)


def split_py_arch(arch: str) -> tuple[Path, str]:
    """("py:PATH:NAME") -> (PATH, NAME); ParameterError if either part is missing. The last
    colon separates NAME, so Windows paths (C:\\...) work."""
    body = arch.strip()[len(PREFIX):].strip()
    path, sep, name = body.rpartition(":")
    name = name.strip()
    if not sep or not path.strip() or not all(part.isidentifier() for part in name.split(".")):
        raise ParameterError(f"--arch {arch.strip()!r}: write {FORM}, the Python file and then, after a colon, "
                             "the class or function in it that builds the network (e.g. py:models/wrn.py:WideResNet).")
    return Path(path.strip()).expanduser(), name


def check_py_arch(arch: str, trust: bool) -> tuple[Path, str]:
    """The file and name of a py: architecture, checked without running anything: the file
    exists and the user trusts it. UntrustedCodeError (clearly worded) if not trusted."""
    path, name = split_py_arch(arch)
    if not path.exists():
        raise ModelLoadError(f"The architecture file {path} does not exist. Check the path "
                             f"(it is relative to {Path.cwd()}).")
    if not path.is_file():
        raise ModelLoadError(f"The architecture path {path} is not a file: give the .py file that defines {name}.")
    if not trust:
        raise UntrustedCodeError(
            f"--arch {PREFIX}{path}:{name} needs to run the Python file {path}, which can do anything your user "
            "account can, so it was NOT run. If you wrote this file or trust where it came from, pass --trust "
            "(command line) or tick \"Trust this file\" (GUI): that allows both running this architecture file "
            "and fully unpickling the checkpoint."
        )
    return path, name


def load_constructor(path: Path, name: str) -> Callable[..., Any]:
    """Run the file as a module and return its attribute NAME (dots reach nested attributes);
    ModelLoadError saying where and why if running it fails or NAME is missing."""
    from visualizer.core.models.wrapper import sha256_of_file

    module_name = f"_visualizer_arch_{sha256_of_file(path)[:16]}"
    try:
        code = compile(path.read_bytes(), str(path), "exec")
    except SyntaxError as exc:
        raise ModelLoadError(f"{path} is not valid Python: {exc.msg} at line {exc.lineno}.") from exc
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Cannot read the architecture file {path}: {exc}") from exc
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    sys.modules[module_name] = module   # dataclasses and typing look a class's module up by name
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(module_name, None)
        raise ModelLoadError(f"Running {path} failed{_where(exc, path)}: {_describe(exc)}") from exc
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    target: Any = module
    for part in name.split("."):
        if not hasattr(target, part):
            raise ModelLoadError(f"{path.name} defines no {name!r}. {_candidates(module, module_name)}")
        target = getattr(target, part)
    if isinstance(target, nn.Module):   # a ready-made network (e.g. NAME = nn.Sequential(...)): fresh copies
        import copy

        return lambda **kwargs: copy.deepcopy(target) if not kwargs else _no_kwargs(name)
    if not callable(target):
        raise ModelLoadError(f"{name} in {path.name} is a {type(target).__name__}, not a class or function "
                             "that builds the network.")
    return target


def build_user_network(constructor: Callable[..., Any], label: str, kwargs: dict) -> nn.Module:
    """``constructor(**kwargs)``, checked to be an nn.Module; ModelLoadError if it fails."""
    try:
        net = constructor(**kwargs)
    except Exception as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        raise ModelLoadError(f"Building the network with {label}({shown}) failed: {_describe(exc)}"
                             + (" Give its arguments with --arch-kwargs as a JSON object."
                                if isinstance(exc, TypeError) else "")) from exc
    if not isinstance(net, nn.Module):
        raise ModelLoadError(f"{label} returned a {type(net).__name__}, not a torch nn.Module.")
    return net


def _no_kwargs(name: str):
    raise TypeError(f"{name} is a network object, not a class or function, so it takes no --arch-kwargs")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _where(exc: BaseException, path: Path) -> str:
    """" at line N" of the user's file, from the innermost traceback frame in it."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return f" at line {lines[-1]}" if lines else ""


def _candidates(module: types.ModuleType, module_name: str) -> str:
    own = [k for k, v in vars(module).items()
           if not k.startswith("_") and callable(v) and getattr(v, "__module__", None) == module_name]
    networks = [k for k in own if isinstance(vars(module)[k], type) and issubclass(vars(module)[k], nn.Module)]
    names = networks + [k for k in own if k not in networks]
    return (f"It defines: {', '.join(names[:12])}." if names
            else "It defines no classes or functions of its own.")


def py_arch(arch: str, kwargs: dict, trust: bool):
    """The ArchChoice for ``py:PATH:NAME``: runs the file (only with ``trust``) and builds
    NAME(**kwargs). Its input is unknown: [0, 1] pixels at 224 px unless the user says."""
    from visualizer.core.models.arch import ArchChoice
    from visualizer.core.models.common import make_preprocessing
    from visualizer.core.models.wrapper import sha256_of_file

    path, name = check_py_arch(arch, trust)
    constructor = load_constructor(path, name)
    label = f"{PREFIX}{path}:{name}"
    return ArchChoice(
        label=label, build=lambda _num_classes, **flags: build_user_network(constructor, name, flags),
        default_num_classes=0, preprocessing=make_preprocessing(input_size=224, resize_size=224),
        cifar_style=False, user_flags=kwargs, input_known=False,
        notes=[f"Architecture {name} from {path} (sha256 {sha256_of_file(path)[:16]}…), run because you trusted it."],
    )
