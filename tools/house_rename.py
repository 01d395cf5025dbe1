#!/usr/bin/env python3
"""kata house rules, applied mechanically (issue 10 point 7). Idempotent: run it again on a tree that has
other branches merged in, then `bash tools/format.sh`, build, commit ("Rename only: ...").

    python3 house-rename.py [REPO] [--phase cite|detail|includes|all] [--dry-run]

Phases (all by default, in this order):
  cite      comments citing documents outside the repository -> the repository's docs/:
            "spec 2.8" / "spec section 2.8" / "spec 10 item 14" -> "docs/nnabla-semantics.md §2.8" / "§10.14";
            TOOLCHAIN.md (trap N) -> docs/toolchain.md §N. Lines pushed past 110 columns are wrapped.
            (include/, tests/, tools/, bench/, examples/, embedded/)
  detail    internals in one naming: every `<topic>_detail` namespace and kata::cpu::nhwc become the
            namespace `detail` directly inside the namespace that owns them (kata::detail,
            kata::cpu::detail, kata::embedded::detail, ...). Uses are rewritten by resolving the old name
            from the namespace where it is used: the short `detail::` when that resolves to the same
            namespace, else the fully qualified `kata::<area>::detail::`. (include/, tests/, examples/,
            bench/, embedded/, tools/ C++ sources; docs/*.md and README.md text)
  includes  one include style inside include/kata: kata headers include each other by relative path in
            quotes ("../core/graph.hpp"), the majority style (measured: 256 quoted vs 67 <kata/...>).
            Programs outside include/ keep <kata/...>. Only directive lines change, never comments.
"""
import os
import re
import sys

CPP_EXT = (".hpp", ".cpp", ".h", ".cu", ".cuh", ".inc")
SRC_DIRS = ["include", "tests", "examples", "bench", "embedded", "tools"]
LIMIT = 110


def files_under(root, dirs, exts):
    for d in dirs:
        base = os.path.join(root, d)
        for dp, dn, fn in os.walk(base):
            dn[:] = [x for x in dn if x not in ("build", ".git", "fixtures") and not x.startswith("build")]
            for f in sorted(fn):
                if f.endswith(exts):
                    yield os.path.join(dp, f)


def write_if_changed(path, old, new, dry):
    if old == new:
        return False
    if dry:
        print("would change", path)
    else:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(new)
    return True


# ----------------------------------------------------------------------------------------------------------------
# cite
# ----------------------------------------------------------------------------------------------------------------
SEM = "docs/nnabla-semantics.md"
NUM = r"\d+(?:\.\d+)*"


def cite_line(line):
    if "//" not in line and not line.lstrip().startswith(("#", "*")):
        return line
    s = line
    s = re.sub(r"\b10 item (\d+)", r"10.\1", s)
    s = re.sub(r"\b[Ss]pec(?:ification)?,? (?:section |§)?(" + NUM + r")\b", SEM + r" §\1", s)
    s = re.sub(r"\bnnabla-semantics\.md(?:,)? (?:section |§)?(" + NUM + r")\b", SEM + r" §\1", s)
    s = s.replace("docs/" + SEM, SEM)
    s = re.sub(r"(?:/work/shared/notes/|\.\./shared/notes/)?TOOLCHAIN\.md(?:,)? (?:trap |§)(\d+)",
               r"docs/toolchain.md §\1", s)
    s = re.sub(r"(?:/work/shared/notes/|\.\./shared/notes/)?TOOLCHAIN\.md", "docs/toolchain.md", s)
    return s


def reflow(lines):
    """Lines past LIMIT after a citation grew: the overflow moves to the start of the next comment line when
    that line continues the same paragraph (same prefix, plain text), else onto a new line; cascades."""
    out = list(lines)
    i = 0
    while i < len(out):
        line = out[i]
        if len(line) > LIMIT:
            m = re.match(r"^(\s*(?://[/!]? ?|# ))", line)
            cut = line.rfind(" ", len(m.group(1)) + 1, LIMIT + 1) if m else -1
            if m and cut > len(m.group(1)):
                prefix = m.group(1)
                first, rest = line[:cut].rstrip(), line[cut + 1 :]
                nxt = out[i + 1] if i + 1 < len(out) else None
                body = nxt[len(prefix):] if nxt is not None and nxt.startswith(prefix) else None
                if body and not body.startswith((" ", "*", "-", "#", "|", "`")) and len(prefix.strip()) > 0:
                    out[i], out[i + 1] = first, prefix + rest + " " + body
                else:
                    out[i] = first
                    out.insert(i + 1, prefix + rest)
        i += 1
    return out


def phase_cite(root, dry):
    n = 0
    for path in files_under(root, SRC_DIRS, CPP_EXT + (".py", ".sh", ".cmake", ".txt")):
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
        lines = old.split("\n")
        changed = [cite_line(x) for x in lines]
        if changed != lines:
            # reflow only from changed lines (unchanged overlong lines stay as their authors wrote them)
            out, i = [], 0
            while i < len(changed):
                if changed[i] != lines[i] and len(changed[i]) > LIMIT:
                    j = i + 1
                    while j < len(changed) and changed[j].lstrip().startswith(("//", "#")) and j < i + 12:
                        j += 1
                    out.extend(reflow(changed[i:j]))
                    i = j
                else:
                    out.append(changed[i])
                    i += 1
            changed = out
        n += write_if_changed(path, old, "\n".join(changed), dry)
    print(f"cite: {n} files changed")


# ----------------------------------------------------------------------------------------------------------------
# detail
# ----------------------------------------------------------------------------------------------------------------
OLD_NS = re.compile(r"^\w+_detail$|^nhwc$")
NS_OPEN = re.compile(r"^\s*(?:inline\s+)?namespace\s+([\w:]*)\s*\{")
NS_CLOSE = re.compile(r"^\s*\}\s*//\s*(?:anonymous\s+)?namespace\s*([\w:]*)")


def walk_namespaces(text):
    """Yields (line index, line, enclosing namespace list) for every line."""
    stack = []  # list of lists of components (one entry per `namespace` statement)
    for i, line in enumerate(text.split("\n")):
        cur = [c for frame in stack for c in frame if c]
        m = NS_OPEN.match(line)
        if m and "}" not in line.split("{", 1)[1]:
            yield i, line, cur
            stack.append(m.group(1).split("::") if m.group(1) else [""])
            continue
        if NS_CLOSE.match(line) and stack:
            stack.pop()
            yield i, line, [c for frame in stack for c in frame if c]
            continue
        yield i, line, cur


def collect_old_namespaces(root):
    olds = set()
    for path in files_under(root, ["include"], CPP_EXT):
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        for _, line, cur in walk_namespaces(text):
            m = NS_OPEN.match(line)
            if not m or not m.group(1):
                continue
            comps = m.group(1).split("::")
            for k, c in enumerate(comps):
                if OLD_NS.match(c):
                    olds.add(tuple(cur + comps[: k + 1]))
    return olds  # full names, e.g. ("kata", "cpu", "conv_detail")


def new_name(old):
    return old[:-1] + ("detail",)


HINT = []  # the area of the file being rewritten, from its path (include/kata/cpu/... -> kata::cpu)


def resolve(short_chain, cur, olds):
    """C++-like lookup of a (possibly partly qualified) name chain ending in an old namespace, from `cur`;
    outside any namespace (comments, tests) an ambiguous name is resolved by the file's area."""
    for k in range(len(cur), -1, -1):
        cand = tuple(cur[:k]) + tuple(short_chain)
        if cand in olds:
            return cand
    by_last = [o for o in olds if o[-len(short_chain):] == tuple(short_chain)]
    if len(by_last) > 1:
        by_last = [o for o in by_last if list(o[:-1]) == HINT[: len(o) - 1]]
    return by_last[0] if len(by_last) == 1 else None


USE = re.compile(r"(?<![\w:])((?:::)?(?:\w+::)*?)(\w+_detail|nhwc)::")


def rewrite_uses(line, cur, olds):
    def sub(m):
        qual, name = m.group(1), m.group(2)
        chain = [c for c in qual.split("::") if c] + [name]
        full = tuple(chain) if qual.startswith("::") else resolve(chain, cur, olds)
        if full is None:
            return m.group(0)
        target = new_name(full)
        if qual:  # keep the user's qualification, only the last component changes
            return qual + "detail::"
        area = list(target[:-1])
        if cur == area or cur == area + ["detail"]:
            return "detail::"
        return "::".join(target) + "::"

    line = USING.sub(lambda m: m.group(1) + sub_using(m, cur, olds), line)
    return USE.sub(sub, line)


USING = re.compile(r"(\busing\s+namespace\s+|\bnamespace\s+\w+\s*=\s*)((?:::)?(?:\w+::)*?)(\w+_detail|nhwc)\b(?!::)")


def sub_using(m, cur, olds):
    qual, name = m.group(2), m.group(3)
    chain = [c for c in qual.split("::") if c] + [name]
    full = tuple(chain) if qual.startswith("::") else resolve(chain, cur, olds)
    if full is None:
        return m.group(2) + m.group(3)
    if qual:
        return qual + "detail"
    area = list(full[:-1])
    return "detail" if cur == area or cur == area + ["detail"] else "::".join(new_name(full))


def phase_detail(root, dry):
    olds = collect_old_namespaces(root)
    print("detail: old internal namespaces:", ", ".join("::".join(o) for o in sorted(olds)) or "none")
    if not olds:
        return
    n = 0
    for path in files_under(root, SRC_DIRS, CPP_EXT):
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
        rel = os.path.relpath(path, root).split(os.sep)
        HINT[:] = ["kata", rel[2]] if rel[:2] == ["include", "kata"] and len(rel) > 3 else ["kata"]
        if rel[0] == "embedded" or "embedded" in rel[1:2]:
            HINT[:] = ["kata", "embedded"]
        lines = old.split("\n")
        for i, line, cur in walk_namespaces(old):
            m = NS_OPEN.match(line)
            if m and m.group(1):
                comps = m.group(1).split("::")
                full = cur + comps
                newc = [("detail" if OLD_NS.match(c) and tuple(full[: len(cur) + k + 1]) in olds else c)
                        for k, c in enumerate(comps)]
                line = line.replace(m.group(1), "::".join(newc), 1)
            mc = NS_CLOSE.match(line)
            if mc and mc.group(1):
                comps = mc.group(1).split("::")
                line = line.replace(mc.group(1), "::".join("detail" if OLD_NS.match(c) else c for c in comps), 1)
            elif not m:
                line = rewrite_uses(line, cur, olds)
            lines[i] = line
        n += write_if_changed(path, old, "\n".join(lines), dry)
    # Markdown: the new fully qualified names.
    md = [os.path.join(root, "README.md")] + [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(root, "docs"))
                                              for f in fs if f.endswith(".md")]
    for path in md:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
        new = old
        for o in sorted(olds, key=len, reverse=True):
            full_old, full_new = "::".join(o), "::".join(new_name(o))
            new = new.replace(full_old, full_new)
            short = o[-1]
            if short == "nhwc":
                new = re.sub(r"(?<![\w:/.])cpu::nhwc\b", "cpu::detail", new)
                continue
            cands = [x for x in olds if x[-1] == short]
            if len(cands) == 1:
                new = re.sub(r"(?<![\w:])" + short + r"\b", "::".join(new_name(o)), new)
            else:
                new = re.sub(r"(?<![\w:])" + re.escape("::".join(o[1:])) + r"\b", "::".join(new_name(o)[1:]), new)
        n += write_if_changed(path, old, new, dry)
    print(f"detail: {n} files changed")


# ----------------------------------------------------------------------------------------------------------------
# includes
# ----------------------------------------------------------------------------------------------------------------
INC = re.compile(r'^(\s*#\s*include\s*)<kata/([^>]+)>(.*)$')


def phase_includes(root, dry):
    inc_root = os.path.join(root, "include")
    n = 0
    for path in files_under(root, ["include"], CPP_EXT):
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
        lines = old.split("\n")
        for i, line in enumerate(lines):
            m = INC.match(line)
            if not m:
                continue
            target = os.path.join(inc_root, "kata", m.group(2))
            if not os.path.exists(target):
                continue
            rel = os.path.relpath(target, os.path.dirname(path))
            lines[i] = f'{m.group(1)}"{rel}"{m.group(3)}'
        n += write_if_changed(path, old, "\n".join(lines), dry)
    print(f"includes: {n} files changed")


def main():
    args = sys.argv[1:]
    dry = "--dry-run" in args
    phase = "all"
    if "--phase" in args:
        phase = args[args.index("--phase") + 1]
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or args[i - 1] != "--phase")]
    root = os.path.abspath(pos[0] if pos else ".")
    if not os.path.isdir(os.path.join(root, "include", "kata")):
        sys.exit(f"{root} is not a kata checkout")
    for p in ("cite", "detail", "includes"):
        if phase in (p, "all"):
            globals()["phase_" + p](root, dry)


if __name__ == "__main__":
    main()
