// The playground's editor: CodeMirror 6 with Python, bundled into one ES module that the site
// serves itself (site/static/vendor/codemirror.js). Rebuild with `make editor`.
//
// Keyboard: Tab indents inside the editor, so a keyboard user needs a way out. CodeMirror's own
// answer is tab-focus mode: press Escape and then Tab (or Shift-Tab) to move focus out of the
// editor, or Ctrl-M (Alt-Shift-M on macOS) to switch Tab between indenting and moving focus.
import { autocompletion, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab, redo, undo } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import {
  bracketMatching,
  defaultHighlightStyle,
  HighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { Compartment, EditorState } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";

// Colours chosen for contrast (WCAG AA, 4.5:1) on the site's light and dark code backgrounds;
// the site's CSS variables set the backgrounds themselves.
const lightStyle = HighlightStyle.define([
  { tag: tags.keyword, color: "#8a1f6b" },
  { tag: [tags.string, tags.special(tags.string)], color: "#1c6b1c" },
  { tag: tags.comment, color: "#5c5c5c", fontStyle: "italic" },
  { tag: [tags.number, tags.bool, tags.null], color: "#9a4a00" },
  { tag: [tags.function(tags.variableName), tags.definition(tags.variableName)], color: "#1d4fa0" },
  { tag: tags.className, color: "#7a4d00" },
  { tag: tags.meta, color: "#6b4a00" },
]);
const darkStyle = HighlightStyle.define([
  { tag: tags.keyword, color: "#f0a3e0" },
  { tag: [tags.string, tags.special(tags.string)], color: "#a6e3a1" },
  { tag: tags.comment, color: "#b4b4b4", fontStyle: "italic" },
  { tag: [tags.number, tags.bool, tags.null], color: "#fab387" },
  { tag: [tags.function(tags.variableName), tags.definition(tags.variableName)], color: "#9cc8ff" },
  { tag: tags.className, color: "#f9e2af" },
  { tag: tags.meta, color: "#f5c2a8" },
]);

const baseTheme = EditorView.theme({
  "&": { fontSize: "0.95rem", border: "1px solid var(--border, #888)", borderRadius: "4px" },
  "&.cm-focused": { outline: "3px solid var(--focus, #1d4fa0)", outlineOffset: "1px" },
  ".cm-content": { fontFamily: "var(--mono, ui-monospace, monospace)", minHeight: "8rem" },
  ".cm-gutters": { background: "transparent", borderRight: "1px solid var(--border, #888)" },
});

function themeFor(dark) {
  return [syntaxHighlighting(dark ? darkStyle : lightStyle), EditorView.darkTheme.of(dark)];
}

/**
 * Make an editor in `parent`.
 * options: doc (text), label (accessible name), nonce (the page's CSP nonce, so CodeMirror's
 * injected styles are allowed), dark (boolean), readOnly, onChange(text).
 * Returns {view, getText, setText, setDark, focus, undo, redo}.
 */
export function createEditor(parent, options = {}) {
  const theme = new Compartment();
  const extensions = [
    lineNumbers(),
    highlightActiveLineGutter(),
    history(),
    drawSelection(),
    indentOnInput(),
    indentUnit.of("    "),
    bracketMatching(),
    closeBrackets(),
    autocompletion({ activateOnTyping: false }),
    highlightActiveLine(),
    highlightSelectionMatches(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    python(),
    baseTheme,
    theme.of(themeFor(Boolean(options.dark))),
    keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, indentWithTab]),
    EditorView.contentAttributes.of({ "aria-label": options.label || "Code editor" }),
    EditorState.readOnly.of(Boolean(options.readOnly)),
    EditorView.updateListener.of((update) => {
      if (update.docChanged && options.onChange) options.onChange(update.state.doc.toString());
    }),
  ];
  if (options.nonce) extensions.push(EditorView.cspNonce.of(options.nonce));
  const view = new EditorView({ parent, state: EditorState.create({ doc: options.doc || "", extensions }) });
  return {
    view,
    getText: () => view.state.doc.toString(),
    setText: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    setDark: (dark) => view.dispatch({ effects: theme.reconfigure(themeFor(Boolean(dark))) }),
    focus: () => view.focus(),
    undo: () => undo(view),
    redo: () => redo(view),
  };
}

export { EditorState, EditorView };
