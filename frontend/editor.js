// PodLab's code editor: CodeMirror 6 with YAML, line numbers and lint diagnostics.
// Bundled once by scripts/build-vendor.sh into static/vendor/codemirror.bundle.js (ESM);
// the lab page imports createEditor() and never needs npm at run time.

import { basicSetup } from "codemirror";
import { EditorState, Compartment } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { setDiagnostics, lintGutter, forEachDiagnostic } from "@codemirror/lint";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";

// Colours come from the page's CSS variables, so the editor follows the light/dark theme
// (data-theme on <html>, or the system setting when it is "auto") without reconfiguring.
const pageTheme = EditorView.theme({
  "&": {
    color: "var(--fg)",
    backgroundColor: "var(--code-bg)",
    border: "1px solid var(--line)",
    borderRadius: "8px",
    fontSize: ".92rem",
  },
  "&.cm-focused": { outline: "3px solid var(--accent)", outlineOffset: "2px" },
  ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.55" },
  ".cm-content": { caretColor: "var(--fg)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg)" },
  ".cm-gutters": {
    backgroundColor: "var(--bg-soft)",
    color: "var(--muted)",
    borderRight: "1px solid var(--line)",
    borderRadius: "8px 0 0 8px",
  },
  ".cm-activeLine": { backgroundColor: "color-mix(in srgb, var(--accent) 7%, transparent)" },
  ".cm-activeLineGutter": { backgroundColor: "color-mix(in srgb, var(--accent) 14%, transparent)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection":
    { backgroundColor: "color-mix(in srgb, var(--accent) 28%, transparent)" },
  ".cm-tooltip": {
    backgroundColor: "var(--bg)",
    color: "var(--fg)",
    border: "1px solid var(--line)",
  },
  ".cm-diagnostic": { fontFamily: "var(--font)" },
  ".cm-diagnostic-error": { borderLeftColor: "var(--bad)" },
  ".cm-diagnostic-warning": { borderLeftColor: "var(--warn)" },
  ".cm-diagnostic-info": { borderLeftColor: "var(--accent)" },
  ".cm-panels": { backgroundColor: "var(--bg-soft)", color: "var(--fg)" },
  ".cm-lintRange-error": { textDecorationColor: "var(--bad)" },
});

const pageHighlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: "var(--cm-key, #326ce5)" },
  { tag: [tags.string, tags.special(tags.string)], color: "var(--cm-string, #1f8a4c)" },
  { tag: [tags.number, tags.bool, tags.null], color: "var(--cm-number, #b7791f)" },
  { tag: tags.comment, color: "var(--muted)", fontStyle: "italic" },
  { tag: [tags.meta, tags.keyword, tags.typeName, tags.labelName], color: "var(--cm-meta, #805ad5)" },
  { tag: [tags.separator, tags.punctuation, tags.squareBracket, tags.brace], color: "var(--fg-soft)" },
]);

/**
 * Create the editor inside `parent`.
 * options: doc (string), onChange(text) called on every edit, label (accessible name),
 * nonce (the page's CSP nonce, used if the browser lacks constructable style sheets),
 * onSubmit() called on Ctrl/Cmd+Enter.
 * tabIndents (default false): whether Tab indents (true) or moves the focus on (false).
 * Returns { view, getText(), setText(text), setProblems(list), focus(), setReadOnly(bool),
 * setTabIndents(bool) }.
 * A problem is { line, column, severity: "error"|"warning"|"info", message }; lines and
 * columns count from 1, as the server reports them.
 */
export function createEditor(parent, options = {}) {
  const readOnly = new Compartment();
  // Tab moves the focus on by default, so a keyboard user passing through the page never edits
  // the manifest by accident; the page offers a toggle that makes Tab indent instead.
  const tabKeys = new Compartment();
  const tabBinding = (on) => (on ? keymap.of([indentWithTab]) : []);
  const extensions = [
    basicSetup,
    keymap.of([
      {
        key: "Mod-Enter",
        run: () => {
          if (options.onSubmit) options.onSubmit();
          return true;
        },
      },
    ]),
    tabKeys.of(tabBinding(Boolean(options.tabIndents))),
    yaml(),
    lintGutter(),
    pageTheme,
    syntaxHighlighting(pageHighlight),
    EditorState.tabSize.of(2),
    EditorView.cspNonce.of(options.nonce || ""),
    readOnly.of(EditorState.readOnly.of(false)),
    EditorView.contentAttributes.of({
      "aria-label": options.label || "YAML",
      spellcheck: "false",
      autocapitalize: "off",
      autocorrect: "off",
    }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged && options.onChange) {
        options.onChange(update.state.doc.toString());
      }
    }),
  ];
  const view = new EditorView({
    parent,
    state: EditorState.create({ doc: options.doc || "", extensions }),
  });

  function setProblems(problems) {
    const doc = view.state.doc;
    const diagnostics = [];
    for (const p of problems || []) {
      const lineNo = Math.min(Math.max(1, Number(p.line) || 1), doc.lines);
      const line = doc.line(lineNo);
      const col = Math.max(1, Number(p.column) || 1);
      let from = Math.min(line.from + col - 1, line.to);
      let to = line.to;
      if (from >= to) {
        from = line.from;
        to = line.to;
      }
      diagnostics.push({
        from,
        to,
        severity: p.severity || "error",
        message: String(p.message || ""),
        source: p.source ? String(p.source) : undefined,
      });
    }
    view.dispatch(setDiagnostics(view.state, diagnostics));
  }

  function countProblems() {
    let n = 0;
    forEachDiagnostic(view.state, () => { n += 1; });
    return n;
  }

  return {
    view,
    getText: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    setProblems,
    countProblems,
    focus: () => view.focus(),
    setTabIndents(flag) {
      view.dispatch({ effects: tabKeys.reconfigure(tabBinding(Boolean(flag))) });
    },
    setReadOnly(flag) {
      view.dispatch({ effects: readOnly.reconfigure(EditorState.readOnly.of(Boolean(flag))) });
    },
  };
}
