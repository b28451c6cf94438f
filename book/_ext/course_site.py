"""Two small fixes to the website that Jupyter Book's own settings cannot make, and the data
of the drawing page.

- sphinx-thebe registers its inline configuration script twice (once with filename None, once
  with ''), which makes every page log "Identifier 'THEBE_JS_URL' has already been declared".
  Keep one copy of each inline script.
- The theme's colour mode starts empty on a first visit and logs "Got invalid theme mode";
  start it at "auto" (follow the reader's system setting).
- MathJax is served with the site so formulas render offline, but only the parts the pages use
  (about 2.6 MB of the npm package's 24 MB): the TeX-to-HTML component, its web fonts, the TeX
  extensions it may load on demand and its menu.
- The drawing page (book/try_lenet5.md) runs the shipped LeNet-5 in JavaScript: after each
  build, ``lenet_course.web`` writes its weights, read from the verified checkpoint, to
  ``_static/lenet5_data.js``.

After each build it prints the site's size (``python book/_ext/course_site.py`` prints it for the
last build): the whole site, its MathJax, and its largest folders.
"""

import shutil
import sys
from pathlib import Path

from lenet_course.web import write_site_data

MATHJAX = Path(__file__).resolve().parents[2] / "node_modules" / "mathjax" / "es5"
MATHJAX_PARTS = ["tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui"]
SITE = Path(__file__).resolve().parents[2] / "_build" / "html"


def mathjax_bytes(site: Path = SITE) -> int:
    """Bytes of MathJax the built site serves (the parts copied by :func:`_copy_mathjax`)."""
    static = site / "_static"
    return sum(p.stat().st_size for part in MATHJAX_PARTS if (static / part).exists()
               for p in ([static / part] if (static / part).is_file() else (static / part).rglob("*"))
               if p.is_file())


def site_size(site: Path = SITE) -> str:
    """One line: the size of the built site, of its MathJax, and of its five largest folders."""
    sizes: dict[str, int] = {}
    for path in site.rglob("*"):
        if path.is_file():
            top = path.relative_to(site).parts[0] if len(path.relative_to(site).parts) > 1 else "(pages)"
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    mathjax = mathjax_bytes(site)
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:5]
    return (f"site: {sum(sizes.values()) / 2**20:.1f} MiB, of which MathJax {mathjax / 2**20:.1f} MiB; "
            + ", ".join(f"{name} {size / 2**20:.1f}" for name, size in largest))


def _unique_inline_scripts(app, pagename, templatename, context, doctree):
    if not context.get("default_mode"):
        context["default_mode"] = "auto"
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        body = (getattr(script, "attributes", None) or {}).get("body")
        if not getattr(script, "filename", None) and body is not None:
            if body in seen:
                continue
            seen.add(body)
        unique.append(script)
    scripts[:] = unique


def _copy_mathjax(static: Path) -> None:
    for part in MATHJAX_PARTS:
        source, target = MATHJAX / part, static / part
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _write_static_files(app, exception):
    if exception is None and app.builder.format == "html":
        static = Path(app.outdir) / "_static"
        _copy_mathjax(static)
        write_site_data(static)
        print(site_size(Path(app.outdir)))


def setup(app):
    app.connect("html-page-context", _unique_inline_scripts, priority=900)
    app.connect("build-finished", _write_static_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    print(site_size(Path(sys.argv[1]) if len(sys.argv) > 1 else SITE))
