#!/usr/bin/env python3
"""No import circles: within each crate, no source file uses (through `use crate::…`,
`use super::…` or a `crate::…` path in its code) a module that uses it back, directly or
through others. A module's own tests (a child that uses `super::*`) are not imports of the
parent's. Prints each circle; exits 1 when there is any.

    scripts/import-circles.py
"""
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules(src: Path):
    """Each source file's module path (a tuple), by its place under src/."""
    found = {}
    for path in src.rglob("*.rs"):
        rel = path.relative_to(src).with_suffix("")
        parts = list(rel.parts)
        if parts in (["lib"], ["main"]):
            parts = []
        elif parts[-1] == "mod":
            parts = parts[:-1]
        found[tuple(parts)] = path
    # `#[path = "x.rs"] mod tests;` makes a file another module's child.
    for module, path in list(found.items()):
        text = path.read_text()
        for match in re.finditer(r'#\[path\s*=\s*"([^"]+)"\]\s*(?:#\[[^\]]*\]\s*)*mod\s+(\w+)\s*;', text):
            target = (path.parent / match.group(1)).resolve()
            for other, other_path in list(found.items()):
                if other_path.resolve() == target:
                    del found[other]
                    found[module + (match.group(2),)] = other_path
    return found


def strip(text: str) -> str:
    """The code without comments, string and character literals."""
    out, at, n = [], 0, len(text)
    while at < n:
        c = text[at]
        if text.startswith("//", at):
            at = text.find("\n", at)
            at = n if at < 0 else at
        elif text.startswith("/*", at):
            end = text.find("*/", at + 2)
            at = n if end < 0 else end + 2
        elif c == "r" and re.match(r'r#*"', text[at:]) and (at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_")):
            hashes = re.match(r"r(#*)\"", text[at:]).group(1)
            end = text.find('"' + hashes, at + 2 + len(hashes))
            at = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            at += 1
            while at < n and text[at] != '"':
                at += 2 if text[at] == "\\" else 1
            at += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[at:]):
            at += len(re.match(r"'(\\.|[^\\'])'", text[at:]).group(0))
            out.append("' '")
        else:
            out.append(c)
            at += 1
    return "".join(out)


def named(path, braces):
    """The paths a `use` names: `path` itself, or each item of its braces (`path::{a, b::c}`)."""
    if braces is None:
        return [tuple(path)]
    items = (item.strip().split(" as ")[0].strip() for item in braces.split(","))
    return [tuple(path + item.split("::")) for item in items if item and item != "self"]


def referenced(module, text, found):
    """The module paths `text` (the code of `module`) names: crate::a::b…, super::a…, and a
    child module's by its bare name (child::f)."""
    paths = []
    for match in re.finditer(r"(?<![:\w])(\w+)((?:::\w+)*)(::\{([^}]*)\})?", text):
        head = match.group(1)
        if head in ("crate", "super", "self") or module + (head,) not in found:
            continue
        rest = match.group(2).split("::")[1:]
        if not rest and not match.group(3):
            continue  # a word that is only the module's name (`mod slots;`)
        base = list(module) + [head]
        paths.extend(named(base + rest, match.group(4)))
    for match in re.finditer(r"(?<!\$)\b(crate|super|self)((?:::\w+)*)(::\{([^}]*)\})?", text):
        head, rest = match.group(1), match.group(2).split("::")[1:]
        if not rest and not match.group(3):
            continue  # `pub(super)`, `&self`: no path
        if head == "crate":
            base = []
        elif head == "super":
            base = list(module[:-1])
            while rest and rest[0] == "super":
                base, rest = base[:-1], rest[1:]
        else:
            base = list(module)
        paths.extend(named(base + rest, match.group(4)))
    return paths


def resolve(path, known):
    """The longest known module that `path` lies in."""
    for end in range(len(path), -1, -1):
        if path[:end] in known:
            return path[:end]
    return None


def circles(found):
    graph = {module: set() for module in found}
    for module, path in found.items():
        text = path.read_text()
        # A module's inline tests (at its end, by convention here) are not its imports.
        text = re.split(r"#\[cfg\(test\)\]\s*mod\s+tests\s*\{", text)[0]
        for named in referenced(module, strip(text), found):
            target = resolve(named, found)
            if target is None or target == module:
                continue
            # A module's tests using it (`use super::*`) are not the module importing them.
            if "tests" in module[len(target):] and module[: len(target)] == target:
                continue
            graph[module].add(target)
    # Tarjan's strongly connected components.
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in graph:
        if node not in index:
            visit(node)
    return out, graph


def main():
    failed = False
    for crate in sorted((ROOT / "crates").iterdir()):
        src = crate / "src"
        if not src.is_dir():
            continue
        found = modules(src)
        found_circles, graph = circles(found)
        for component in found_circles:
            failed = True
            names = ["::".join(m) or "(root)" for m in component]
            print(f"{crate.name}: modules import each other in a circle: {', '.join(names)}", file=sys.stderr)
            for module in component:
                back = sorted("::".join(t) or "(root)" for t in graph[module] if t in component)
                print(f"  {'::'.join(module) or '(root)'} -> {', '.join(back)}", file=sys.stderr)
    if failed:
        sys.exit(1)
    print("ok: no import circles in any crate")


if __name__ == "__main__":
    main()
