"""Keep the archived CNTK post honest.

CNTK 2.7 (its last release) has wheels only for Python 2.7, 3.5 and 3.6, so the post
``2018-04-28-cnn-in-cntk-archived`` shows its CNTK code as a listing that is never executed
(cells tagged ``skip-execution``). These tests make sure that listing is still real CNTK:

* every listing cell is valid Python;
* the ``cntk==2.7.post2`` wheel for CPython 3.6 is downloaded from the package index (once;
  cached in ``tests/.cache/cntk``), its Python sources are read from the zip archive and
  parsed with ``ast`` (nothing of CNTK is imported or executed);
* every ``C.something`` the listing calls or reads resolves to a definition in the wheel
  (following the package's own ``from .x import *`` re-exports), and the call's positional
  and keyword arguments bind to that definition's signature;
* methods and attributes used on the objects the listing builds (``trainer.train_minibatch``,
  ``loss.grad``, ``conv.W.value = ...``) exist on the classes the wheel's docstrings say those
  objects are;
* the names the listing imports from the shared modules in ``notebooks/`` exist there.

The executed cells of the notebook (NumPy only) make claims that ``test_cntk_claims`` checks.
"""
from __future__ import annotations

import ast
import glob
import inspect
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

SITE = Path(__file__).resolve().parents[2]
NOTEBOOK = SITE / "notebooks" / "2018-04-28-cnn-in-cntk-archived.ipynb"
CACHE = SITE / "tests" / ".cache" / "cntk"
REQUIREMENT = "cntk==2.7.post2"
WHEEL_GLOB = "cntk-2.7.post2-cp36-cp36m-manylinux1_x86_64.whl"

# The listing must use at least these (the list); the test fails if one disappears.
REQUIRED_API = {
    "cntk.layers.Sequential", "cntk.layers.Convolution2D", "cntk.layers.MaxPooling",
    "cntk.layers.Dense", "cntk.cross_entropy_with_softmax", "cntk.Trainer", "cntk.sgd",
    "cntk.Trainer.train_minibatch",
}


# --------------------------------------------------------------------------- the listing

def listing_cells() -> list[str]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return [c.source for c in nb.cells
            if c.cell_type == "code" and "skip-execution" in c.metadata.get("tags", [])]


def test_listing_is_marked_and_valid_python():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = listing_cells()
    assert len(cells) >= 3, "the CNTK listing should span several skip-execution cells"
    for i, src in enumerate(cells):
        ast.parse(src, filename=f"<cntk listing cell {i}>")
    whole = "\n\n".join(cells)
    ast.parse(whole)
    assert "import cntk as C" in whole
    # Any cell that mentions CNTK's API must be a listing cell (never executed here).
    for c in nb.cells:
        if c.cell_type == "code" and re.search(r"\bimport cntk\b|\bC\.", c.source):
            assert "skip-execution" in c.metadata.get("tags", []), c.source[:80]
    # A banner says why the listing is not run.
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert re.search(r'class="banner"|^>', markdown, re.M), "no banner explaining the listing"
    assert "only for Python 2.7, 3.5 and 3.6 (none for 3.7 or later)" in markdown


# --------------------------------------------------------------------------- the wheel

@pytest.fixture(scope="module")
def wheel() -> "Wheel":
    found = sorted(glob.glob(str(CACHE / WHEEL_GLOB)))
    if not found:
        CACHE.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--python-version", "3.6", "--platform", "manylinux1_x86_64",
               REQUIREMENT, "-d", str(CACHE)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 0, f"could not download {REQUIREMENT}:\n{done.stderr[-2000:]}"
        found = sorted(glob.glob(str(CACHE / WHEEL_GLOB)))
    assert found, f"{WHEEL_GLOB} not found in {CACHE}"
    return Wheel(found[-1])


class Ref:
    """Something a name resolves to inside the wheel."""

    def __init__(self, kind: str, qualname: str, module: str = "", node=None):
        self.kind, self.qualname, self.module, self.node = kind, qualname, module, node

    def __repr__(self):
        return f"<{self.kind} {self.qualname}>"


class Wheel:
    """The wheel's Python sources, parsed with ast, and a resolver for dotted names."""

    def __init__(self, path: str):
        self.sources: dict[str, str] = {}
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("cntk/") and name.endswith(".py"):
                    mod = name[:-3].replace("/", ".")
                    if mod.endswith(".__init__"):
                        mod = mod[: -len(".__init__")]
                    self.sources[mod] = z.read(name).decode("utf-8-sig")
        self._trees: dict[str, ast.Module] = {}
        self._ns: dict[str, dict] = {}
        self._stars: dict[str, list[str]] = {}

    def is_module(self, mod: str) -> bool:
        return mod in self.sources

    def tree(self, mod: str) -> ast.Module:
        if mod not in self._trees:
            self._trees[mod] = ast.parse(self.sources[mod], filename=mod)
        return self._trees[mod]

    def _absolute(self, mod: str, level: int, target: str | None) -> str:
        if level == 0:
            return target or ""
        package = mod if self.sources.get(mod) is not None and self._is_package(mod) else mod.rsplit(".", 1)[0]
        parts = package.split(".")
        if level > 1:
            parts = parts[: -(level - 1)]
        return ".".join(parts + ([target] if target else []))

    def _is_package(self, mod: str) -> bool:
        return any(m.startswith(mod + ".") for m in self.sources)

    def namespace(self, mod: str) -> dict:
        """Top-level names a module binds itself: name -> Ref or ('alias', module, name).
        ``from x import *`` is kept aside (``self._stars``) and followed at lookup time."""
        if mod in self._ns:
            return self._ns[mod]
        ns: dict = {}
        stars: list[str] = []

        def visit(stmts):
            for st in stmts:
                if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    ns[st.name] = Ref("def", f"{mod}.{st.name}", mod, st)
                elif isinstance(st, ast.ClassDef):
                    ns[st.name] = Ref("class", f"{mod}.{st.name}", mod, st)
                elif isinstance(st, ast.Assign):
                    for t in st.targets:
                        if isinstance(t, ast.Name):
                            ns[t.id] = Ref("value", f"{mod}.{t.id}", mod, st)
                elif isinstance(st, ast.Import):
                    for a in st.names:
                        if a.asname:
                            ns[a.asname] = Ref("module", a.name) if self.is_module(a.name) else Ref("external", a.name)
                        else:
                            top = a.name.split(".")[0]
                            ns[top] = Ref("module", top) if self.is_module(top) else Ref("external", top)
                elif isinstance(st, ast.ImportFrom):
                    src = self._absolute(mod, st.level, st.module)
                    for a in st.names:
                        if a.name == "*":
                            if self.is_module(src):
                                stars.append(src)
                            continue
                        local = a.asname or a.name
                        if self.is_module(f"{src}.{a.name}"):
                            ns[local] = Ref("module", f"{src}.{a.name}")
                        elif self.is_module(src):
                            ns[local] = ("alias", src, a.name)
                        else:
                            ns[local] = Ref("external", f"{src}.{a.name}")
                elif isinstance(st, (ast.If, ast.Try)):
                    visit(st.body)
                    for h in getattr(st, "handlers", []):
                        visit(h.body)
                    visit(st.orelse)
        visit(self.tree(mod).body)
        self._ns[mod] = ns
        self._stars[mod] = stars
        return ns

    def exported(self, mod: str) -> list[str] | None:
        """The module's ``__all__`` when it spells one out as a literal list."""
        for st in self.tree(mod).body:
            if (isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in st.targets)
                    and isinstance(st.value, (ast.List, ast.Tuple))):
                return [e.value for e in st.value.elts if isinstance(e, ast.Constant)]
        return None

    def lookup(self, mod: str, name: str, seen: frozenset = frozenset()):
        """What ``mod.name`` is, following aliases and star imports (None: not defined)."""
        if (mod, name) in seen or not self.is_module(mod):
            return None
        seen = seen | {(mod, name)}
        entry = self.namespace(mod).get(name)
        if isinstance(entry, tuple):  # ('alias', module, name)
            return self.lookup(entry[1], entry[2], seen)
        if entry is not None:
            return entry
        for src in reversed(self._stars[mod]):  # the last star import wins
            if name.startswith("_"):
                break
            allowed = self.exported(src)
            if allowed is not None and name not in allowed:
                continue
            found = self.lookup(src, name, seen)
            if found is not None:
                return found
        if self.is_module(f"{mod}.{name}"):
            return Ref("module", f"{mod}.{name}")
        return None

    def resolve_dotted(self, dotted: str):
        parts = dotted.split(".")
        ref = Ref("module", parts[0])
        for p in parts[1:]:
            ref = self.attribute(ref, p)
            if ref is None:
                return None
        return ref

    # ---- classes
    def bases(self, cls: Ref) -> list[Ref]:
        out = []
        for b in cls.node.bases:
            dotted = dotted_name(b)
            if dotted is None:
                continue
            head, *rest = dotted.split(".")
            ref = self.lookup(cls.module, head)
            for p in rest:
                ref = self.attribute(ref, p) if ref is not None else None
            if isinstance(ref, Ref) and ref.kind == "class":
                out.append(ref)
        return out

    def class_member(self, cls: Ref, name: str, seen=None):
        """(Ref of the member, owning class) searching the class and its bases."""
        seen = seen or set()
        if cls.qualname in seen:
            return None
        seen.add(cls.qualname)
        for st in cls.node.body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name == name:
                return Ref("method", f"{cls.qualname}.{name}", cls.module, st)
            if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in st.targets):
                return Ref("value", f"{cls.qualname}.{name}", cls.module, st)
        for base in self.bases(cls):
            found = self.class_member(base, name, seen)
            if found is not None:
                return found
        return None

    def has_setter(self, cls: Ref, name: str) -> bool:
        for st in cls.node.body:
            if isinstance(st, ast.FunctionDef) and st.name == name:
                for d in st.decorator_list:
                    if dotted_name(d) == f"{name}.setter":
                        return True
        return any(self.has_setter(b, name) for b in self.bases(cls))

    def attribute(self, ref, name: str):
        if not isinstance(ref, Ref):
            return None
        if ref.kind == "module":
            return self.lookup(ref.qualname, name) if self.is_module(ref.qualname) else None
        if ref.kind == "class":
            return self.class_member(ref, name)
        return None

    # ---- what a definition returns, according to its docstring
    def documented_return(self, node):
        """The class a definition's docstring says it returns (a Ref); "plain" when it documents
        a NumPy array, dict, number or bool; None when it does not say."""
        doc = ast.get_docstring(node) or ""
        m = re.search(r"Returns:\s*\n(.*?)(?:\n\s*\n|\Z)", doc, re.S)
        if not m:
            return None
        for dotted in re.findall(r"(cntk(?:\.\w+)+)", m.group(1)):
            ref = self.resolve_dotted(dotted)
            if isinstance(ref, Ref) and ref.kind == "class":
                return ref
        if re.search(r"\b(NumPy|numpy|dict|float|int|bool)\b", m.group(1)):
            return "plain"
        return None

    def named_parameters(self, factory: Ref) -> set[str]:
        """``name=`` of the ``Parameter(...)`` calls a layer factory (or a function it calls
        in the same module) makes: the attributes ``layer.W``, ``layer.b`` of its result."""
        names: set[str] = set()
        todo, done = [factory.node], set()
        while todo:
            fn = todo.pop()
            if id(fn) in done:
                continue
            done.add(id(fn))
            for call in ast.walk(fn):
                if not isinstance(call, ast.Call):
                    continue
                callee = dotted_name(call.func)
                if callee == "Parameter":
                    for kw in call.keywords:
                        if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                            names.add(kw.value.value)
                elif callee and "." not in callee:
                    target = self.namespace(factory.module).get(callee)
                    if isinstance(target, Ref) and target.kind == "def":
                        todo.append(target.node)
        return names


def dotted_name(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = dotted_name(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def signature_of(fn: ast.FunctionDef, drop_self: bool) -> inspect.Signature:
    a = fn.args
    params = []
    positional = list(a.posonlyargs) + list(a.args)
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    for i, (arg, default) in enumerate(zip(positional, defaults)):
        kind = (inspect.Parameter.POSITIONAL_ONLY if i < len(a.posonlyargs)
                else inspect.Parameter.POSITIONAL_OR_KEYWORD)
        params.append(inspect.Parameter(arg.arg, kind,
                                        default=inspect.Parameter.empty if default is None else "default"))
    if a.vararg:
        params.append(inspect.Parameter(a.vararg.arg, inspect.Parameter.VAR_POSITIONAL))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        params.append(inspect.Parameter(arg.arg, inspect.Parameter.KEYWORD_ONLY,
                                        default=inspect.Parameter.empty if default is None else "default"))
    if a.kwarg:
        params.append(inspect.Parameter(a.kwarg.arg, inspect.Parameter.VAR_KEYWORD))
    is_static = any(dotted_name(d) == "staticmethod" for d in fn.decorator_list)
    if drop_self and not is_static:
        params = params[1:]
    return inspect.Signature(params)


def is_property(fn) -> bool:
    return any(dotted_name(d) == "property" for d in getattr(fn, "decorator_list", []))


# --------------------------------------------------------------------------- the checker

class ListingChecker(ast.NodeVisitor):
    """Walks the listing, tracking which local names hold CNTK objects, and checks every use."""

    def __init__(self, wheel: Wheel):
        self.w = wheel
        self.env: dict[str, object] = {}   # local name -> Ref (module/def/class) or ('instance', class Ref, origin)
        self.errors: list[str] = []
        self.used: set[str] = set()
        self.checked_calls = 0
        self.function_cls = wheel.resolve_dotted("cntk.ops.functions.Function")
        self.parameter_cls = wheel.resolve_dotted("cntk.variables.Parameter")
        assert self.function_cls is not None and self.parameter_cls is not None

    # values of expressions ------------------------------------------------
    def value(self, node):
        """What an expression is, as far as CNTK is concerned (None: not a CNTK object)."""
        if isinstance(node, ast.Name):
            return self.env.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.value(node.value)
            if base is None:
                return None
            return self.get_attribute(base, node.attr, node)
        if isinstance(node, ast.Call):
            return self.call(node)
        return None

    def get_attribute(self, base, attr: str, node):
        if isinstance(base, Ref):
            found = self.w.attribute(base, attr)
            if found is None:
                self.error(node, f"{base.qualname} has no attribute {attr!r} in the wheel")
                return "error"
            if isinstance(found, Ref) and found.kind in ("def", "class", "method", "value"):
                self.used.add(found.qualname)
                self.used.add(f"{base.qualname}.{attr}")
            return found
        if isinstance(base, tuple) and base[0] == "instance":
            _, cls, origin = base
            member = self.w.class_member(cls, attr)
            if member is not None:
                self.used.add(f"{cls.qualname}.{attr}")
                if member.kind == "method" and is_property(member.node):
                    return self.returned(self.w.documented_return(member.node), None)
                return ("bound", member, cls)
            if cls.qualname == self.function_cls.qualname and origin is not None:
                # Function.__getattr__ finds user-named items of a layer, e.g. Dense(...).W
                if attr in self.w.named_parameters(origin):
                    return ("instance", self.parameter_cls, None)
            self.error(node, f"{cls.qualname} (built by {origin.qualname if origin else '?'}) "
                             f"has no attribute {attr!r}")
            return "error"
        if base in ("unknown",):
            self.error(node, f"cannot check attribute {attr!r} of an object of unknown type")
            return "error"
        return None

    def call(self, node: ast.Call):
        target = self.value(node.func)
        if target is None or target == "error":
            for a in node.args:
                self.value(a)
            for k in node.keywords:
                self.value(k.value)
            return None if target is None else "error"
        for a in node.args:
            self.value(a)
        for k in node.keywords:
            self.value(k.value)
        if isinstance(target, Ref) and target.kind == "def":
            self.bind(node, signature_of(target.node, drop_self=False), target.qualname)
            return self.returned(self.w.documented_return(target.node), target)
        if isinstance(target, Ref) and target.kind == "class":
            init = self.w.class_member(target, "__init__")
            if init is not None:
                self.bind(node, signature_of(init.node, drop_self=True), target.qualname)
            return ("instance", target, None)
        if isinstance(target, tuple) and target[0] == "bound":
            _, member, cls = target
            if member.kind != "method":
                self.error(node, f"{member.qualname} is not callable")
                return "error"
            self.bind(node, signature_of(member.node, drop_self=True), member.qualname)
            return self.returned(self.w.documented_return(member.node), None)
        if isinstance(target, tuple) and target[0] == "instance":
            _, cls, origin = target
            member = self.w.class_member(cls, "__call__")
            if member is None:
                self.error(node, f"{cls.qualname} objects are not callable")
                return "error"
            self.bind(node, signature_of(member.node, drop_self=True), member.qualname)
            if cls.qualname == self.function_cls.qualname:  # documented: calling a Function on symbols gives a Function
                return ("instance", cls, origin)
            return "unknown"
        if target == "unknown":
            self.error(node, "cannot check a call on an object of unknown type")
            return "error"
        self.error(node, f"cannot call {target!r}")
        return "error"

    def returned(self, ret, origin):
        """The value of a call/property whose docstring documents ``ret`` (see documented_return)."""
        if ret == "plain":
            return None          # a NumPy array, dict or number: nothing of CNTK's left to check
        if ret is None:
            return "unknown"     # undocumented: any later use of it is an error
        if ret.qualname == self.function_cls.qualname:
            return ("instance", ret, origin)   # remember the layer factory for .W / .b
        return ("instance", ret, None)

    def bind(self, node: ast.Call, sig: inspect.Signature, what: str):
        self.checked_calls += 1
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            bind = sig.bind_partial
        else:
            bind = sig.bind
        try:
            bind(*[object() for a in node.args if not isinstance(a, ast.Starred)],
                 **{k.arg: object() for k in node.keywords if k.arg is not None})
        except TypeError as e:
            self.error(node, f"{what}{sig}: the call does not bind ({e})")

    def error(self, node, msg):
        self.errors.append(f"line {getattr(node, 'lineno', '?')}: {msg}")

    # statements -----------------------------------------------------------
    def visit_Import(self, node):
        for a in node.names:
            if a.name == "cntk" or a.name.startswith("cntk."):
                ref = Ref("module", a.name) if self.w.is_module(a.name) else None
                if ref is None:
                    self.error(node, f"no module {a.name} in the wheel")
                self.env[a.asname or a.name.split(".")[0]] = ref if a.asname else Ref("module", "cntk")

    def visit_ImportFrom(self, node):
        if node.module and (node.module == "cntk" or node.module.startswith("cntk.")):
            for a in node.names:
                ref = self.w.lookup(node.module, a.name)
                if ref is None:
                    self.error(node, f"cannot import {a.name} from {node.module}")
                self.env[a.asname or a.name] = ref

    def visit_Assign(self, node):
        val = self.value(node.value)
        for t in node.targets:
            if isinstance(t, ast.Name):
                if val is None:
                    self.env.pop(t.id, None)
                else:
                    self.env[t.id] = val
            elif isinstance(t, ast.Attribute):
                base = self.value(t.value)
                if isinstance(base, tuple) and base[0] == "instance":
                    cls = base[1]
                    if not self.w.has_setter(cls, t.attr):
                        self.error(t, f"{cls.qualname}.{t.attr} cannot be assigned (no property setter)")
                    else:
                        self.used.add(f"{cls.qualname}.{t.attr}=")
                elif base is not None:
                    self.error(t, f"cannot check the assignment to .{t.attr}")
            else:
                self.generic_visit(t)

    def visit_Expr(self, node):
        self.value(node.value)

    def visit_Call(self, node):  # calls nested in other statements (for loops, f-strings, ...)
        self.value(node)

    def visit_Attribute(self, node):
        self.value(node)


def check_listing(wheel: Wheel) -> ListingChecker:
    checker = ListingChecker(wheel)
    tree = ast.parse("\n\n".join(listing_cells()))
    for stmt in tree.body:
        checker.visit(stmt)
    return checker


def test_listing_matches_cntk_2_7_signatures(wheel):
    assert "cntk.layers.layers" in wheel.sources, "the wheel's layers module is missing"
    assert wheel.sources.get("cntk") is not None
    checker = check_listing(wheel)
    assert not checker.errors, "\n".join(checker.errors)
    assert checker.checked_calls >= 15, checker.checked_calls


def test_listing_uses_the_api_the_post_describes(wheel):
    checker = check_listing(wheel)
    used = checker.used
    aliases = {
        "cntk.layers.Sequential": "cntk.layers.higher_order_layers.Sequential",
        "cntk.layers.Convolution2D": "cntk.layers.layers.Convolution2D",
        "cntk.layers.MaxPooling": "cntk.layers.layers.MaxPooling",
        "cntk.layers.Dense": "cntk.layers.layers.Dense",
        "cntk.cross_entropy_with_softmax": "cntk.losses.cross_entropy_with_softmax",
        "cntk.Trainer": "cntk.train.trainer.Trainer",
        "cntk.sgd": "cntk.learners.sgd",
        "cntk.Trainer.train_minibatch": "cntk.train.trainer.Trainer.train_minibatch",
    }
    missing = [name for name in REQUIRED_API if name not in used and aliases[name] not in used]
    assert not missing, f"the listing does not use {missing}; it used {sorted(used)}"


def test_checker_rejects_wrong_code(wheel):
    """The checker itself must catch a wrong keyword, a missing name and a wrong method."""
    bad = {
        "C.layers.Convolution2D((3, 3), 8, padding='same')": "does not bind",
        "C.layers.Flatten()": "no attribute",
        "C.sgd(lr=0.1)": "does not bind",
        "t = C.Trainer(None, None, [])\nt.fit(1)": "has no attribute",
        "d = C.layers.Dense(10)\nd.kernel.value = 1": "has no attribute",
    }
    for src, expected in bad.items():
        checker = ListingChecker(wheel)
        for stmt in ast.parse("import cntk as C\n" + src).body:
            checker.visit(stmt)
        assert any(expected in e for e in checker.errors), (src, checker.errors)


def test_shared_module_names_exist():
    """What the listing imports from notebooks/*.py (the shared data and weights) exists there."""
    tree = ast.parse("\n\n".join(listing_cells()))
    checked = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            path = SITE / "notebooks" / f"{node.module}.py"
            if not path.exists():
                assert node.module in {"numpy", "cntk"} or node.module.startswith("cntk."), \
                    f"the listing imports {node.module}, which is neither CNTK nor a shared module"
                continue
            mod = ast.parse(path.read_text())
            defined = set()
            for st in mod.body:
                if isinstance(st, (ast.FunctionDef, ast.ClassDef)):
                    defined.add(st.name)
                elif isinstance(st, (ast.Assign, ast.AnnAssign)):
                    for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                        defined.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
                elif isinstance(st, (ast.Import, ast.ImportFrom)):
                    defined.update((a.asname or a.name).split(".")[0] for a in st.names)
            for a in node.names:
                assert a.name in defined, f"{node.module}.{a.name} does not exist"
                checked += 1
    assert checked >= 4


# --------------------------------------------------------------------------- executed claims

def test_cntk_claims(notebook_claims):
    claims = notebook_claims("2018-04-28-cnn-in-cntk-archived.ipynb")
    # The CNTK dense layout (C, H, W, out) computes exactly the reference dense layer.
    assert claims["dense_layout_max_abs_err"] < 1e-5
    # Reshaping without the transpose does not.
    assert claims["dense_reshape_only_max_abs_err"] > 1e-2
    # Summed gradient scaled by LR / batch equals LR times the mean gradient (the update CNTK makes).
    assert claims["sum_vs_mean_update_max_rel_err"] < 1e-6
    # An unscaled learning rate on the summed gradient takes a step batch-size times larger.
    for key in ("unscaled_step_ratio_min", "unscaled_step_ratio_max"):
        assert claims[key] == pytest.approx(claims["batch_size"], rel=1e-6)


# --------------------------------------------------------------------------- why it cannot run here

def wheel_exists_for(python_version: str) -> bool:
    """Ask the package index whether CNTK 2.7 has a Linux wheel for this Python (nothing is installed)."""
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed",
           "--only-binary=:all:", "--python-version", python_version, "--platform", "manylinux1_x86_64",
           "--target", "/nonexistent-never-written", REQUIREMENT]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if "No matching distribution found" in done.stderr:
        return False
    assert done.returncode == 0, done.stderr[-2000:]
    return True


def test_banner_says_which_pythons_cntk_supports():
    # "has wheels on the Python package index only for Python 2.7, 3.5 and 3.6 (none for 3.7 or later)"
    assert all(wheel_exists_for(v) for v in ("2.7", "3.5", "3.6"))
    assert not any(wheel_exists_for(v) for v in ("3.7", "3.8", f"{sys.version_info.major}.{sys.version_info.minor}"))
