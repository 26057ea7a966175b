// The page's state in the URL, read and written from the server's declared state table
// (GET /api/table): one row per field with its name, type and default.

function parseValue(type, text) {
  switch (type) {
    case "int": return Number.parseInt(text, 10);
    case "float": return Number.parseFloat(text);
    case "bool": return text === "true";
    case "int_list": return text === "" ? [] : text.split(",").map((part) => Number.parseInt(part, 10));
    case "string_list": return text === "" ? [] : text.split(",");
    default: return text;
  }
}

function formatValue(type, value) {
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}

/** The fields of the URL hash that the table knows, typed; unknown keys are ignored. */
export function parseHash(table, hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const changes = {};
  for (const row of table) {
    if (!params.has(row.name)) continue;
    const value = parseValue(row.type, params.get(row.name));
    if (typeof value === "number" && Number.isNaN(value)) continue;
    changes[row.name] = value;
  }
  return changes;
}

/** The whole state as a URL hash, in the table's order. */
export function toHash(table, state) {
  const params = new URLSearchParams();
  for (const row of table) {
    if (row.name in state) params.set(row.name, formatValue(row.type, state[row.name]));
  }
  return "#" + params.toString();
}
