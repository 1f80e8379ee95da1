// rpl highlighting for CodeMirror, read from the TextMate grammar the VS Code extension uses
// (editors/vscode/syntaxes/rpl.tmLanguage.json), so both editors colour a policy alike and a
// change to the language is made in one place. A small TextMate reader: `match` rules (with
// `captures`) and `begin`/`end` rules (strings, interpolations, brackets), on a stack kept
// across lines, which is all this grammar uses.
import { StreamLanguage } from "@codemirror/language";
import grammar from "../../editors/vscode/syntaxes/rpl.tmLanguage.json";

// TextMate scope (most specific prefix first) -> a CodeMirror highlighting tag name.
const SCOPE_TAGS = [
  ["comment", "comment"],
  ["constant.character.escape", "escape"],
  ["punctuation.definition.string", "string"],
  ["string", "string"],
  ["storage.type", "definitionKeyword"],
  ["entity.name.function", "variableName.definition"],
  ["entity.name.type", "typeName"],
  ["variable.other.constant", "variableName.constant"],
  ["variable.other.property", "propertyName"],
  ["variable.other", "variableName"],
  ["constant.other.currency", "atom"],
  ["constant.other.date", "literal"],
  ["constant.numeric", "number"],
  ["constant.language", "bool"],
  ["support.type.duration", "unit"],
  ["support.type", "typeName"],
  ["support.function", "variableName.function"],
  ["keyword.operator.word", "operatorKeyword"],
  ["keyword.operator.quantifier", "operatorKeyword"],
  ["keyword.operator", "operator"],
  ["keyword.control", "controlKeyword"],
  ["keyword", "keyword"],
  ["punctuation.section.parens", "paren"],
  ["punctuation.section.brackets", "squareBracket"],
  ["punctuation.section", "brace"],
  ["punctuation", "punctuation"],
  ["invalid", "invalid"],
];

function tagOf(scope) {
  if (!scope) return null;
  const found = SCOPE_TAGS.find(([prefix]) => scope === prefix || scope.startsWith(prefix + "."));
  return found ? found[1] : null;
}

// Each rule compiled once: a sticky regular expression with group indices (`d`), so it matches
// exactly at the stream's position while still seeing the whole line (for `^`, `\b`, lookbehind).
function compile(patterns, seen = new Set()) {
  const rules = [];
  for (const pattern of patterns) {
    if (pattern.include) {
      const name = pattern.include.slice(1);
      const target = grammar.repository[name];
      if (seen.has(name)) continue; // an include already expanded on this path (recursion)
      const own = target.match || target.begin ? [target] : target.patterns;  // a rule, or a list of rules
      rules.push(...compile(own, new Set([...seen, name])));
    } else if (pattern.match) {
      rules.push({ re: new RegExp(pattern.match, "yd"), tag: tagOf(pattern.name),
                   captures: pattern.captures || null });
    } else if (pattern.begin) {
      rules.push({ re: new RegExp(pattern.begin, "yd"), tag: tagOf(pattern.name),
                   captures: pattern.beginCaptures || null, frame: pattern });
    }
  }
  return rules;
}

const frames = new Map(); // begin/end rule -> {rules, end, tag}, made on first use
function frameOf(pattern) {
  if (!frames.has(pattern)) {
    frames.set(pattern, {
      rules: null, // compiled on first use: a frame's patterns may include the frame itself
      patterns: pattern.patterns || [],
      end: new RegExp(pattern.end, "yd"),
      endCaptures: pattern.endCaptures || null,
      tag: tagOf(pattern.contentName ? null : pattern.name),
      endTag: tagOf(pattern.name),
    });
  }
  const frame = frames.get(pattern);
  if (frame.rules === null) frame.rules = compile(frame.patterns);
  return frame;
}

const root = { rules: compile(grammar.patterns), end: null, tag: null };

function exec(re, stream) {
  re.lastIndex = stream.pos;
  const m = re.exec(stream.string);
  return m && m[0].length > 0 ? m : null;
}

// The tokens of a match with captures: each captured group its own tag, the rest the rule's.
function pieces(match, captures, tag, from) {
  const out = [];
  let at = from;
  const end = from + match[0].length;
  const groups = Object.keys(captures).map(Number).filter((g) => g > 0 && match.indices[g])
    .sort((a, b) => match.indices[a][0] - match.indices[b][0]);
  for (const g of groups) {
    const [start, stop] = match.indices[g];
    if (start < at || stop === start) continue;
    if (start > at) out.push({ end: start, tag });
    out.push({ end: stop, tag: tagOf(captures[g].name) || tag });
    at = stop;
  }
  if (at < end || out.length === 0) out.push({ end, tag: captures["0"] ? tagOf(captures["0"].name) : tag });
  return out;
}

export const rplLanguage = StreamLanguage.define({
  name: "rpl",
  startState: () => ({ stack: [], pending: [] }),
  copyState: (s) => ({ stack: s.stack.slice(), pending: s.pending.slice() }),
  token(stream, state) {
    if (state.pending.length) {
      const next = state.pending.shift();
      stream.pos = next.end;
      return next.tag;
    }
    const frame = state.stack.length ? state.stack[state.stack.length - 1] : root;
    if (frame.end) {
      const m = exec(frame.end, stream);
      if (m) {
        state.stack.pop();
        return emit(stream, state, m, frame.endCaptures, frame.endTag);
      }
    }
    for (const rule of frame.rules) {
      const m = exec(rule.re, stream);
      if (!m) continue;
      if (rule.frame) state.stack.push(frameOf(rule.frame));
      return emit(stream, state, m, rule.captures, rule.frame ? tagOf(rule.frame.name) : rule.tag);
    }
    stream.next();
    return frame.tag;
  },
  languageData: { commentTokens: { line: "#" } },
});

function emit(stream, state, match, captures, tag) {
  if (!captures) {
    stream.pos += match[0].length;
    return tag;
  }
  const parts = pieces(match, captures, tag, stream.pos);
  const first = parts.shift();
  state.pending.push(...parts);
  stream.pos = first.end;
  return first.tag;
}
