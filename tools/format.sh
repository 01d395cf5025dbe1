#!/usr/bin/env bash
# kata's formatting rule, owned by the repository: .clang-format describes the code, and every C++ file
# that git tracks (generated fixtures aside) follows it.
#   bash tools/format.sh          reformat in place
#   bash tools/format.sh --check  list the files that differ and fail (ctest format_check)
# Uses Debian 12's clang-format (14); another major version may format some constructs differently,
# so the check SKIPs (exit 77) when only another version is found.
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=""
for c in clang-format-14 clang-format; do
    if command -v "$c" > /dev/null && "$c" --version | grep -q "version 14\."; then fmt="$c"; break; fi
done
if [[ -z "$fmt" ]]; then
    echo "format_check: SKIP (clang-format 14 not found)"
    exit 77
fi
mapfile -t files < <(git ls-files '*.hpp' '*.cpp' '*.h' '*.cu' '*.cuh' | grep -v '/fixtures/')
if [[ "${1:-}" == "--check" ]]; then
    bad=0
    for f in "${files[@]}"; do
        if ! "$fmt" --dry-run --Werror "$f" > /dev/null 2>&1; then echo "not formatted: $f"; bad=1; fi
    done
    if ((bad)); then echo "run: bash tools/format.sh"; exit 1; fi
    echo "format_check: ${#files[@]} files follow .clang-format"
else
    "$fmt" -i "${files[@]}"
fi
