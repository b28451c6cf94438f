"""Two small fixes to the website that Jupyter Book's own settings cannot make.

- sphinx-thebe registers its inline configuration script twice (once with filename None, once
  with ''), which makes every page log "Identifier 'THEBE_JS_URL' has already been declared".
  Keep one copy of each inline script.
- The theme's colour mode starts empty on a first visit and logs "Got invalid theme mode";
  start it at "auto" (follow the reader's system setting).
"""


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


def setup(app):
    app.connect("html-page-context", _unique_inline_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
