// The rpl workbench page: a client of the workbench's JSON API (rplang/workbench/app.py), like
// any other. Every change to the policy asks for its diagnostics and the decision at once, and
// (a moment later) its examples and impact; answers to older texts are dropped.
import { EditorView, basicSetup } from "codemirror";
import { EditorState, RangeSet, StateEffect, StateField } from "@codemirror/state";
import { GutterMarker, gutter, keymap } from "@codemirror/view";
import { setDiagnostics } from "@codemirror/lint";
import { json } from "@codemirror/lang-json";
import { rplLanguage } from "./rpl-language.js";
import { requestDiagnostics } from "./request-lint.js";

const SLOW_DELAY_MS = 200; // examples, impact, graph and document wait for typing to pause

const $ = (id) => document.getElementById(id);
// Edits are numbered from the time the page opened, so that a page opened later numbers its
// edits above those of an earlier one: the server stops an impact when a newer edit comes.
const wb = { path: null, version: null, savedText: "", savedErrors: 0, edit: Date.now(), editedAt: 0, slowFor: null,
             answered: new Set(), corpus: null, tab: "try", timers: {} };

// ---- the API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, info) {
    super(info && info.message ? info.message : `the workbench answered ${status}`);
    this.status = status;
    this.info = info || {};
  }
}

async function api(route, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(route, init);
  let data = null;
  try { data = await response.json(); } catch (_) { /* not JSON: reported below */ }
  if (!response.ok) throw new ApiError(response.status, data && data.error);
  return data;
}

const latest = {};
// Run `ask` for `key`; its answer is shown only if no newer one was asked for meanwhile.
async function fresh(key, ask, show) {
  const ticket = (latest[key] = (latest[key] || 0) + 1);
  try {
    const answer = await ask();
    // superseded: the server skipped this text for a newer one, whose answer follows
    if (latest[key] === ticket && answer.status !== "superseded") show(answer);
  } catch (error) {
    if (latest[key] === ticket) show({ status: "failed", error: { message: error.message } });
  }
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "onclick") node.addEventListener("click", value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child.nodeType ? child : String(child));
  }
  return node;
}

// ---- the editors ---------------------------------------------------------------------------------

class CoverageMarker extends GutterMarker {
  constructor(kind, title) { super(); this.kind = kind; this.title = title; }
  eq(other) { return other.kind === this.kind && other.title === this.title; }
  toDOM() { return el("span", { class: `coverage ${this.kind}`, title: this.title }, "●"); }
}

const setCoverage = StateEffect.define();
const coverageField = StateField.define({
  create: () => RangeSet.empty,
  update(markers, tr) {
    markers = markers.map(tr.changes);
    for (const effect of tr.effects) if (effect.is(setCoverage)) markers = effect.value;
    return markers;
  },
});

const policyView = new EditorView({
  parent: $("policy-editor"),
  state: EditorState.create({
    doc: "",
    extensions: [
      keymap.of([{ key: "Mod-s", preventDefault: true, run: () => { save({}); return true; } }]),
      basicSetup,
      EditorView.lineWrapping,
      rplLanguage,
      coverageField,
      gutter({ class: "cm-coverage-gutter", markers: (view) => view.state.field(coverageField) }),
      EditorView.updateListener.of((update) => { if (update.docChanged) policyChanged(); }),
    ],
  }),
});

const requestView = new EditorView({
  parent: $("request-editor"),
  state: EditorState.create({
    doc: "",
    extensions: [basicSetup, json(),
      EditorView.updateListener.of((update) => { if (update.docChanged) requestChanged(); })],
  }),
});

const policyText = () => policyView.state.doc.toString();
const requestText = () => requestView.state.doc.toString();

function replaceText(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

function jumpTo(offset) {
  const at = Math.min(offset, policyView.state.doc.length);
  policyView.dispatch({ selection: { anchor: at }, scrollIntoView: true });
  policyView.focus();
}

// ---- what follows a change -----------------------------------------------------------------------

function policyChanged() {
  wb.edit += 1;
  showFileState();
  checkNow();
  decideNow();
  clearTimeout(wb.timers.slow);
  wb.answered.clear();
  wb.slowFor = wb.edit; // the slow analyses wait for this edit's diagnostics and decision
  wb.editedAt = performance.now();
}

// Examples, impact, graph and document start once typing pauses: SLOW_DELAY_MS after the last
// keystroke, and not before its diagnostics and decision are on the page (started sooner, they
// would share the server's time with them). The pause is counted from the keystroke, so that
// waiting for those answers is part of it rather than added to it. They run one after the
// other, what is on screen first.
function fastAnswered(edit) {
  if (wb.slowFor !== edit || !wb.answered.has(`check ${edit}`) || !wb.answered.has(`decide ${edit}`)) return;
  wb.slowFor = null;
  wb.answered.clear();
  later("slow", Math.max(0, SLOW_DELAY_MS - (performance.now() - wb.editedAt)), async () => {
    const tasks = { examples: runExamples, impact: runImpact, graph: showTab, document: showTab };
    const first = tasks[wb.tab];
    if (first) await first();
    for (const task of [runImpact, runExamples]) if (task !== first) await task();
  });
}

function requestChanged() {
  decideNow();
  if (wb.tab === "graph") later("graph", SLOW_DELAY_MS, drawGraph);
}

function later(key, delay, run) {
  clearTimeout(wb.timers[key]);
  wb.timers[key] = setTimeout(run, delay);
}

const about = () => ({ path: wb.path, text: policyText(), edit: wb.edit });

function checkNow() {
  const edit = wb.edit;
  fresh("check", () => api("api/check", about()), (answer) => {
    showDiagnostics(answer, edit);
    wb.answered.add(`check ${edit}`);
    fastAnswered(edit);
  });
}

function decideNow() {
  const edit = wb.edit;
  fresh("decide", () => api("api/decide", { ...about(), request: requestText() }), (answer) => {
    showDecision(answer, edit);
    wb.answered.add(`decide ${edit}`);
    fastAnswered(edit);
  });
}

// ---- diagnostics ---------------------------------------------------------------------------------

function showDiagnostics(answer, edit) {
  const list = $("diagnostics-list");
  const panel = list.parentElement;
  panel.dataset.edit = edit;
  list.replaceChildren();
  if (answer.status === "failed") {
    $("diagnostics-title").textContent = "Problems (not checked)";
    list.append(el("li", { class: "error" }, answer.error.message));
    return;
  }
  const found = answer.diagnostics;
  const errors = answer.errors;
  const warnings = found.length - errors;
  $("diagnostics-title").textContent = found.length === 0 ? "No problems"
    : [errors && `${errors} error${errors === 1 ? "" : "s"}`,
       warnings && `${warnings} warning${warnings === 1 ? "" : "s"}`].filter(Boolean).join(", ");
  panel.dataset.errors = errors;
  if (policyText() === wb.savedText) { // what is on disk: the file state says if it has errors
    wb.savedErrors = errors;
    showFileState();
  }
  const length = policyView.state.doc.length;
  const marks = [];
  for (const d of found) {
    const where = d.line ? `line ${d.line}` : "";
    list.append(el("li", { class: d.severity, "data-line": d.line, "data-code": d.code,
                           onclick: () => d.from !== null && jumpTo(d.from) },
      el("span", { class: "where" }, where), " ", el("span", { class: "message" }, d.message), " ",
      codeLink(d.code), d.hint ? el("div", { class: "hint" }, "help: ", d.hint) : null));
    if (d.from !== null) {
      const from = Math.min(d.from, length);
      const to = Math.min(Math.max(d.to, from + 1), length);
      marks.push({ from, to: Math.max(to, from), severity: d.severity === "warning" ? "warning" : "error",
                   message: d.message + (d.hint ? `\nhelp: ${d.hint}` : ""),
                   renderMessage: () => el("div", { class: "lint-message" }, d.message,
                     d.hint ? el("div", { class: "hint" }, "help: ", d.hint) : null, codeLink(d.code)) });
    }
  }
  policyView.dispatch(setDiagnostics(policyView.state, marks));
}

function codeLink(code) {
  return el("a", { class: "code", href: `errors/${encodeURIComponent(code)}`, target: "_blank",
                   title: "what this code means, with an example and its fix (docs/errors.md)" }, code);
}

// ---- Try: the decision on a request --------------------------------------------------------------

const money = /^-?\d+\.\d{2}$/;

function showDecision(answer, edit) {
  const box = $("decision");
  box.dataset.edit = edit;
  box.dataset.status = answer.status;
  box.classList.toggle("stale", answer.status === "policy_error");
  if (answer.status === "policy_error") {
    box.dataset.outcome = "";
    box.querySelector(".stale-note")?.remove();
    box.prepend(el("p", { class: "stale-note" },
      `The policy has ${answer.errors} error${answer.errors === 1 ? "" : "s"}: fix ${answer.errors === 1 ? "it" : "them"} to see the decision again.`));
    return;
  }
  box.replaceChildren();
  $("explanation").textContent = "";
  requestView.dispatch(setDiagnostics(requestView.state, answer.status === "request_error"
    ? requestDiagnostics(requestView, answer.error) : []));
  if (answer.status === "request_error") {
    box.dataset.outcome = "";
    box.append(el("p", { class: "headline bad" }, answer.error.message),
      el("ul", { class: "problems" }, answer.error.problems.map((p) =>
        el("li", {}, el("code", {}, p.path), " ", p.message))));
    return;
  }
  if (answer.status !== "decided") {
    box.dataset.outcome = "";
    box.append(el("p", { class: "headline bad" }, `Not decided: ${answer.error.message}`));
    return;
  }
  const { decision, explanation } = answer;
  const outputs = decision.outputs;
  box.dataset.outcome = outputs.outcome || "";
  box.append(el("p", { class: `headline outcome-${outputs.outcome}` }, explanation.split("\n")[0]));
  box.append(el("table", { class: "outputs" }, Object.entries(outputs).map(([name, value]) =>
    el("tr", {}, el("th", {}, name.replaceAll("_", " ")),
       el("td", { class: typeof value === "string" && money.test(value) ? "num" : "" }, shown(value))))));
  const items = byItem(decision.explanation);
  if (items.length) {
    box.append(el("h3", {}, "Item by item"), el("table", { class: "items" }, items.map(([item, lines]) =>
      el("tr", {}, el("th", {}, item), el("td", {}, lines.map((l) => el("div", {}, l)))))));
  }
  for (const [name, total] of Object.entries(decision.computation || {})) {
    if (!total.steps.length) continue;
    box.append(el("h3", {}, `How ${name.replaceAll("_", " ")} is computed`), el("table", { class: "steps" },
      total.steps.map((s) => el("tr", {}, el("td", { class: "num" }, s.amount),
        el("td", {}, s.element_name ? `${s.rule} (${s.element_name})` : s.rule))),
      el("tr", { class: "sum" }, el("td", { class: "num" }, total.value),
        el("td", {}, total.floored ? `sum ${total.sum}, raised to the floor ${total.floor}` : "total"))));
  }
  $("explanation").textContent = explanation;
}

function shown(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.join(" to ");
  return String(value).replaceAll("_", " ");
}

function byItem(entries) {
  const items = new Map();
  for (const entry of entries) {
    if (!entry.element_name) continue;
    if (!items.has(entry.element_name)) items.set(entry.element_name, []);
    const what = entry.outcome ? `${entry.sentence} → ${entry.outcome.replaceAll("_", " ")}` : entry.sentence;
    items.get(entry.element_name).push(`${what} [${entry.rule}]`);
  }
  return [...items.entries()];
}

async function loadRequest(path) {
  const answer = await api(`api/request?path=${encodeURIComponent(path)}`);
  $("compare").hidden = true;
  replaceText(requestView, answer.text);
}

// ---- Examples ------------------------------------------------------------------------------------

function runExamples() {
  const edit = wb.edit;
  return fresh("examples", () => api("api/examples", about()), (answer) => showExamples(answer, edit));
}

function showExamples(answer, edit) {
  const box = $("examples");
  box.dataset.edit = edit;
  box.dataset.status = answer.status;
  box.replaceChildren();
  const badge = $("examples-badge");
  if (answer.status !== "ran") {
    badge.textContent = "";
    badge.className = "badge";
    const why = answer.status === "policy_error"
      ? `The examples cannot run: ${answer.errors} error${answer.errors === 1 ? "" : "s"} in the policy or its examples.`
      : `The examples could not run: ${answer.error.message}`;
    box.append(el("p", { class: "stale-note" }, why));
    for (const d of answer.diagnostics || []) {
      box.append(el("pre", { class: "report" }, `${d.file}:${d.line}: ${d.message}`));
    }
    return;
  }
  box.dataset.failed = answer.failed;
  badge.textContent = answer.failed ? `${answer.failed} failing` : `${answer.passed} ✓`;
  badge.className = `badge ${answer.failed ? "bad" : "good"}`;
  box.append(el("p", { class: "summary", "data-testid": "examples-summary" },
    `${answer.passed} passed, ${answer.failed} failed · rules covered both ways: ${answer.coverage_percent}%`));
  const list = el("ul", { class: "examples" });
  for (const e of answer.examples) {
    const place = e.file && e.line ? `${e.file}:${e.line}` : "";
    list.append(el("li", { class: e.passed ? "passed" : "failed", "data-example": e.name,
                           onclick: () => e.from !== null && jumpTo(e.from),
                           title: e.from !== null ? "show it in the editor" : place },
      el("span", { class: "mark" }, e.passed ? "✓" : "✗"), " ", e.name, " ", el("span", { class: "where" }, place),
      e.report && e.source ? el("pre", { class: "example-source" }, e.source) : null,
      e.report ? el("pre", { class: "report" }, e.report) : null));
  }
  box.append(list);
  const doc = policyView.state.doc;
  const markers = [];
  for (const row of answer.coverage) {
    if (!row.line || row.line > doc.lines) continue;
    const kind = row.both_ways ? "both" : row.fired ? "fired" : "never";
    const title = row.both_ways ? `rule ${row.rule}: applied in an example, and its condition seen true and false`
      : row.fired ? `rule ${row.rule}: applied, but its condition was never seen false in an example`
      : `rule ${row.rule}: never applies in any example`;
    markers.push(new CoverageMarker(kind, title).range(doc.line(row.line).from));
  }
  policyView.dispatch({ effects: setCoverage.of(RangeSet.of(markers, true)) });
}

// ---- Impact --------------------------------------------------------------------------------------

function runImpact() {
  if (!wb.corpus) {
    showImpact({ status: "no_corpus" }, wb.edit);
    return Promise.resolve();
  }
  const edit = wb.edit;
  return fresh("impact", () => api("api/impact", { ...about(), corpus: wb.corpus }), (answer) => showImpact(answer, edit));
}

function showImpact(answer, edit) {
  const box = $("impact");
  box.dataset.edit = edit;
  box.dataset.status = answer.status;
  box.replaceChildren();
  const badge = $("impact-badge");
  badge.textContent = "";
  badge.className = "badge";
  if (answer.status !== "compared") {
    const why = { no_corpus: "This policy has no corpus of requests: choose a JSONL file above.",
                  policy_error: `The edited policy has ${answer.errors} error(s): fix them to see the impact.`,
                  saved_policy_error: "The saved policy has errors, so there is nothing to compare against." };
    box.append(el("p", { class: "stale-note" }, why[answer.status] || `No impact: ${answer.error?.message}`));
    return;
  }
  box.dataset.changed = answer.changed;
  if (answer.changed) { badge.textContent = String(answer.changed); badge.className = "badge warn"; }
  box.append(el("p", { class: "summary", "data-testid": "impact-summary" },
    `${answer.changed} of ${answer.requests} decisions change`,
    answer.rejected ? ` (${answer.rejected} requests refused by either version, not compared)` : ""));
  if (answer.outcomes.length) {
    box.append(el("h3", {}, "Outcomes"), el("table", { class: "transitions", "data-testid": "impact-outcomes" },
      el("tr", {}, el("th", {}, "before"), el("th", {}, "after"), el("th", { class: "num" }, "requests")),
      answer.outcomes.map((o) => el("tr", {}, el("td", {}, shown(o.from)), el("td", {}, shown(o.to)),
                                     el("td", { class: "num" }, String(o.count))))));
  }
  const money = Object.entries(answer.money);
  if (money.length) {
    box.append(el("h3", {}, "Amounts"), el("table", { class: "money", "data-testid": "impact-money" },
      el("tr", {}, el("th", {}, "amount"), el("th", { class: "num" }, "requests"), el("th", { class: "num" }, "total change")),
      money.map(([name, m]) => el("tr", {}, el("td", {}, name.replaceAll("_", " ")),
        el("td", { class: "num" }, String(m.changed)),
        el("td", { class: "num" }, m.total_delta.startsWith("-") ? m.total_delta : `+${m.total_delta}`)))));
  }
  if (answer.examples.length) {
    box.append(el("h3", {}, `Changed requests${answer.changed > answer.examples.length ? ` (the first ${answer.examples.length})` : ""}`),
      el("ul", { class: "changed" }, answer.examples.map((e) => el("li", { "data-line": e.line },
        `line ${e.line}: ${shown(e.outputs_before.outcome)} → ${shown(e.outputs_after.outcome)}`,
        changedAmounts(e), " ",
        el("button", { class: "link", onclick: () => openInTry(e) }, "open in Try")))));
  }
}

function changedAmounts(e) {
  const parts = [];
  for (const [name, before] of Object.entries(e.outputs_before)) {
    const after = e.outputs_after[name];
    if (name !== "outcome" && typeof before === "string" && money.test(before) && before !== after) {
      parts.push(`${name.replaceAll("_", " ")} ${before} → ${after}`);
    }
  }
  return parts.length ? ` (${parts.join(", ")})` : "";
}

function openInTry(changed) {
  $("request-select").value = "";
  replaceText(requestView, JSON.stringify(JSON.parse(changed.request), null, 2));
  $("compare-before").textContent = changed.explanation_before;
  $("compare-after").textContent = changed.explanation_after;
  $("compare").hidden = false;
  selectTab("try");
}

// ---- Graph and document --------------------------------------------------------------------------

function drawGraph() {
  return fresh("graph", () => api("api/graph", { ...about(), request: requestText() }), (answer) => {
    const box = $("graph");
    box.dataset.status = answer.status;
    box.replaceChildren();
    if (answer.status !== "drawn") {
      box.append(el("p", { class: "stale-note" }, answer.status === "policy_error"
        ? "The policy has errors: fix them to see its graph." : `No graph: ${answer.error.message}`));
      return;
    }
    if (answer.note) box.append(el("p", { class: "hint" }, answer.note));
    if (answer.format === "svg") {
      // as an image: the picture cannot run anything, whatever the policy's texts say
      box.append(el("img", { alt: "the rule graph", "data-testid": "graph-picture",
                             src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(answer.svg)}` }));
    } else {
      box.append(el("pre", { class: "mermaid-text" }, answer.mermaid));
    }
  });
}

function renderDocument() {
  return fresh("document", () => api("api/document", about()), (answer) => {
    const box = $("document");
    box.dataset.status = answer.status;
    box.replaceChildren();
    if (answer.status !== "rendered") {
      box.append(el("p", { class: "stale-note" }, answer.status === "policy_error"
        ? "The policy has errors: fix them to see the document." : `No document: ${answer.error.message}`));
      return;
    }
    // sandboxed: shown as published, with nothing in it able to run
    box.append(el("iframe", { sandbox: "", title: "customer document", srcdoc: answer.html }));
  });
}

function selectTab(name) {
  wb.tab = name;
  for (const tab of document.querySelectorAll("[data-tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
  for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
  showTab();
}

function showTab() {
  if (wb.tab === "graph") return drawGraph();
  if (wb.tab === "document") return renderDocument();
  return Promise.resolve();
}

// ---- Saving --------------------------------------------------------------------------------------

function showFileState() {
  const edited = policyText() !== wb.savedText;
  const broken = !edited && wb.savedErrors > 0;
  $("file-state").textContent = edited ? "edited, not saved"
    : broken ? `saved, with ${wb.savedErrors} error${wb.savedErrors === 1 ? "" : "s"}` : "saved";
  $("file-state").className = `file-state ${edited ? "edited" : broken ? "bad" : ""}`;
}

function ask(text, choices) {
  $("save-question-text").textContent = text;
  for (const id of ["save-overwrite", "save-reload", "save-with-errors"]) $(id).hidden = !choices.includes(id);
  $("save-question").hidden = false;
}

async function save(options) {
  $("save-question").hidden = true;
  $("save-status").textContent = "saving…";
  try {
    const answer = await api("api/save", { path: wb.path, text: policyText(), version: wb.version, ...options });
    wb.version = answer.version;
    wb.savedText = answer.text;
    wb.savedErrors = answer.with_errors;
    if (answer.text !== policyText()) {
      const cursor = Math.min(policyView.state.selection.main.head, answer.text.length);
      policyView.dispatch({ changes: { from: 0, to: policyView.state.doc.length, insert: answer.text },
                            selection: { anchor: cursor } });
    } else {
      policyChanged(); // the impact compares against the new saved text
    }
    showFileState();
    $("save-status").textContent = (answer.with_errors ? `Saved WITH ${answer.with_errors} ERROR(S)` : "Saved, formatted")
      + (answer.backup ? `; the previous text is kept in ${answer.backup}` : "");
    $("save-status").className = `save-status ${answer.with_errors ? "bad" : "good"}`;
  } catch (error) {
    $("save-status").textContent = "";
    if (error.info.kind === "conflict") {
      ask(`${error.message}. Overwrite it with your text, or discard your edits and load the file from disk?`,
          ["save-overwrite", "save-reload"]);
    } else if (error.info.kind === "errors") {
      ask(`Not saved: ${error.message}.`, ["save-with-errors"]);
    } else {
      $("save-status").textContent = `Not saved: ${error.message}`;
      $("save-status").className = "save-status bad";
    }
  }
}

// ---- Opening a policy ----------------------------------------------------------------------------

async function openPolicy(path) {
  const file = await api(`api/file?path=${encodeURIComponent(path)}`);
  wb.path = file.path;
  wb.version = file.version;
  wb.savedText = file.text;
  history.replaceState(null, "", `?policy=${encodeURIComponent(file.path)}`);
  const requests = $("request-select");
  requests.replaceChildren(el("option", { value: "" }, "(your own)"),
    ...file.requests.map((r) => el("option", { value: r }, r.split("/").pop())));
  wb.corpus = file.corpus;
  $("corpus-select").value = wb.corpus || "";
  replaceText(policyView, file.text);
  if (file.requests.length) {
    requests.value = file.requests[0];
    await loadRequest(file.requests[0]);
  }
  $("save-status").textContent = "";
}

async function start() {
  const files = await api("api/files");
  document.title = `rpl workbench — ${files.folder}`;
  $("policy-select").replaceChildren(...files.policies.map((p) => el("option", { value: p }, p)));
  $("corpus-select").replaceChildren(el("option", { value: "" }, "(none)"),
    ...files.corpora.map((c) => el("option", { value: c }, c)));
  $("policy-select").addEventListener("change", (e) => {
    if (policyText() !== wb.savedText && !confirm("Your edits are not saved. Open another policy anyway?")) {
      e.target.value = wb.path;
      return;
    }
    openPolicy(e.target.value);
  });
  $("request-select").addEventListener("change", (e) => { if (e.target.value) loadRequest(e.target.value); });
  $("corpus-select").addEventListener("change", (e) => { wb.corpus = e.target.value || null; runImpact(); });
  for (const tab of document.querySelectorAll("[data-tab]")) tab.addEventListener("click", () => selectTab(tab.dataset.tab));
  $("save").addEventListener("click", () => save({}));
  $("save-overwrite").addEventListener("click", () => save({ overwrite: true }));
  $("save-with-errors").addEventListener("click", () => save({ with_errors: true }));
  $("save-reload").addEventListener("click", () => { $("save-question").hidden = true; openPolicy(wb.path); });
  $("save-cancel").addEventListener("click", () => { $("save-question").hidden = true; });
  $("compare-close").addEventListener("click", () => { $("compare").hidden = true; });
  window.addEventListener("beforeunload", (e) => { if (policyText() !== wb.savedText) e.preventDefault(); });
  const wanted = new URLSearchParams(location.search).get("policy");
  const first = files.policies.includes(wanted) ? wanted : files.policies[0];
  if (first) {
    $("policy-select").value = first;
    await openPolicy(first);
  } else {
    $("diagnostics-title").textContent = "No policy (.rpl file) in this folder";
  }
  document.body.dataset.ready = "true";
}

start().catch((error) => {
  document.body.prepend(el("p", { class: "question" }, `The workbench could not start: ${error.message}`));
});
