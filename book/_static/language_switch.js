// The link to the same page in the other language (English <-> 中文), in the page header.
// The Chinese edition lives in zh/ of the same site; Sphinx gives each page the relative path
// to its site's root (data-content_root), so the counterpart is found without a server.
(function () {
  "use strict";
  function counterpart() {
    const html = document.documentElement;
    const chinese = (html.lang || "").startsWith("zh");
    const root = new URL(html.dataset.content_root || "./", window.location.href);
    const page = window.location.href.slice(root.href.length).split("#")[0];
    const target = chinese ? new URL("../" + page, root) : new URL("zh/" + page, root);
    return { href: target.href, label: chinese ? "English" : "中文", lang: chinese ? "en" : "zh-CN" };
  }
  function addLink() {
    if (document.querySelector("a.language-switch")) return;
    const { href, label, lang } = counterpart();
    const link = document.createElement("a");
    link.className = "btn btn-sm language-switch";
    link.href = href;
    link.hreflang = lang;
    link.lang = lang;
    link.textContent = label;
    link.title = lang === "en" ? "Read this page in English" : "阅读本页的中文版";
    const bar = document.querySelector(".article-header-buttons") || document.querySelector(".bd-header-article");
    if (bar) bar.prepend(link);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", addLink);
  else addLink();
})();
