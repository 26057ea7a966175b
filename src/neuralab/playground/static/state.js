// The page's state in the URL, read and written from the server's declared state table
// (GET /api/table): one row per field with its name, type and default. A link keeps every
// key it can read; the ones it cannot are named (and the server names those it refuses).
// Classroom links add `<control>_hide=true` keys (TensorFlow Playground's), which hide controls.

const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const WHOLE = /^-?\d+$/;

function parseValue(type, text) {
  const list = (pattern, kind) => {
    if (text === "") return [];
    const parts = text.split(",");
    if (!parts.every((part) => pattern.test(part.trim()))) throw new Error(`expected ${kind} separated by commas`);
    return parts.map(Number);
  };
  switch (type) {
    case "int":
      if (!WHOLE.test(text)) throw new Error("expected a whole number");
      return Number.parseInt(text, 10);
    case "float":
      if (!NUMBER.test(text)) throw new Error("expected a number");
      return Number.parseFloat(text);
    case "bool":
      if (text !== "true" && text !== "false") throw new Error("expected true or false");
      return text === "true";
    case "int_list": return list(WHOLE, "whole numbers");
    case "string_list": return text === "" ? [] : text.split(",");
    default: return text;
  }
}

function formatValue(type, value) {
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}

/** The link's settings: `changes` (typed, by field), `refused` ([key, why]) and `hides` (controls hidden). */
export function parseHash(table, hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const rows = Object.fromEntries(table.map((row) => [row.name, row]));
  const changes = {}, refused = [], hides = new Set();
  for (const [key, text] of params) {
    if (key.endsWith("_hide")) {
      if (text === "true") hides.add(key.slice(0, -5));
      continue;
    }
    if (!rows[key]) { refused.push([key, "not a setting of the playground"]); continue; }
    try {
      changes[key] = parseValue(rows[key].type, text);
    } catch (error) {
      refused.push([`${key}=${text}`, error.message]);
    }
  }
  return { changes, refused, hides };
}

/** The whole state as a URL hash, in the table's order, then the classroom's hidden controls. */
export function toHash(table, state, hides = new Set()) {
  const params = new URLSearchParams();
  for (const row of table) {
    if (row.name in state) params.set(row.name, formatValue(row.type, state[row.name]));
  }
  for (const name of [...hides].sort()) params.set(`${name}_hide`, "true");
  return "#" + params.toString();
}
