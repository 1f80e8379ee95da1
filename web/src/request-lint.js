// Where a request's problems are in the JSON editor: each problem's JSON path (`$.items[0].price`,
// as the runtime reports it) followed down the JSON syntax tree to the value it names, or to the
// deepest part of it that exists (a missing field: the object that lacks it).
import { ensureSyntaxTree } from "@codemirror/language";
import { jsonParseLinter } from "@codemirror/lang-json";

const STEP = /\.([^.[]+)|\[(\d+)\]/g;

function steps(path) {
  const out = [];
  for (const m of path.slice(1).matchAll(STEP)) out.push(m[1] !== undefined ? m[1] : Number(m[2]));
  return out;
}

function valueChildren(node) {
  const out = [];
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (!["{", "}", "[", "]", ",", "⚠"].includes(child.name)) out.push(child);
  }
  return out;
}

function follow(state, node, step) {
  if (typeof step === "number") {
    return node.name === "Array" ? valueChildren(node)[step] || null : null;
  }
  if (node.name !== "Object") return null;
  for (const property of valueChildren(node)) {
    const name = property.getChild("PropertyName");
    if (!name) continue;
    let key;
    try { key = JSON.parse(state.doc.sliceString(name.from, name.to)); } catch (_) { continue; }
    if (key === step) return property.lastChild && property.lastChild.name !== ":" ? property.lastChild : name;
  }
  return null;
}

export function requestDiagnostics(view, error) {
  const problems = error.problems || [];
  if (problems.length === 1 && problems[0].path === "$" && /JSON/.test(problems[0].message)) {
    return jsonParseLinter()(view); // where the text stops being JSON
  }
  const tree = ensureSyntaxTree(view.state, view.state.doc.length, 200);
  const top = tree && tree.topNode.firstChild;
  const found = [];
  for (const problem of problems) {
    let node = top;
    for (const step of steps(problem.path)) {
      const next = node && follow(view.state, node, step);
      if (!next) break;
      node = next;
    }
    const from = node ? node.from : 0;
    const to = node ? (node.name === "Object" || node.name === "Array" ? from + 1 : node.to) : 0;
    found.push({ from, to: Math.max(to, Math.min(from + 1, view.state.doc.length)), severity: "error",
                 message: `${problem.path}: ${problem.message}` });
  }
  return found;
}
