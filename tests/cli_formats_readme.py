"""README.md's "File formats" block is a copy of `patron help formats`
(server/cli/cli_formats.c): fails, showing the first differing line, when
one changed without the other."""
import subprocess
import sys

patron, readme = sys.argv[1], sys.argv[2]
text = subprocess.run([patron, "help", "formats"], check=True, capture_output=True,
                      text=True).stdout
doc = open(readme, encoding="utf-8").read()
head = "### File formats\n"
if head not in doc:
    sys.exit("README.md has no '### File formats' section")
block = doc.split(head, 1)[1].split("```\n", 2)[1]
if block != text:
    for i, (a, b) in enumerate(zip(block.splitlines() + [""], text.splitlines() + [""])):
        if a != b:
            sys.exit(f"README.md's File formats block differs at line {i + 1}:\n"
                     f"  README: {a!r}\n  patron: {b!r}")
print(f"README.md's File formats block matches patron help formats ({len(text)} bytes)")
