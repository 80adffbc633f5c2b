// Renders the OpenAPI document's operations and their parameters as plain HTML (no outside library or CDN).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("paths");
  const el = (tag, text) => {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  // A parameter's or field's values: its enum, else its type with the format (date-time, uuid) or range.
  const describe = (s) => {
    if (!s) return "";
    if (s.enum) return s.enum.join(", ");
    let text = s.type || (s.allOf || s.oneOf ? "see the document" : "");
    if (s.format) text += ` (${s.format})`;
    if (s.minimum !== undefined || s.maximum !== undefined) text += ` ${s.minimum ?? ""}–${s.maximum ?? ""}`;
    return text;
  };
  // The schema a $ref names (components/schemas), or the schema itself.
  const component = (doc, s) => {
    const ref = s && (s.$ref || (s.allOf && s.allOf[0] && s.allOf[0].$ref));
    return ref ? ((doc.components || {}).schemas || {})[ref.split("/").pop()] : s;
  };
  fetch(box.dataset.schema, { headers: { Accept: "application/json" } })
    .then((response) => response.json())
    .then((schema) => {
      box.textContent = "";
      for (const [path, operations] of Object.entries(schema.paths || {})) {
        for (const [method, op] of Object.entries(operations)) {
          const section = el("section");
          section.append(el("h2", `${method.toUpperCase()} ${path}`));
          if (op.description) section.append(el("p", op.description));
          const params = op.parameters || [];
          if (params.length) {
            const table = el("table");
            const head = el("tr");
            for (const title of ["name", "in", "values", "description"]) head.append(el("th", title));
            table.append(head);
            for (const p of params) {
              const row = el("tr");
              const values = describe(p.schema);
              for (const text of [p.name, p.in, values, p.description || ""]) row.append(el("td", text));
              table.append(row);
            }
            section.append(table);
          }
          const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
          const fields = body && body.schema && component(schema, body.schema);
          if (fields && fields.properties) {
            const list = el("ul");
            for (const [name, field] of Object.entries(fields.properties)) {
              list.append(el("li", `${name}: ${describe(component(schema, field) || field)}` +
                (field.description ? ` (${field.description})` : "")));
            }
            section.append(el("p", "JSON body (unknown fields are refused):"), list);
          }
          section.append(el("p", "Responses: " + Object.keys(op.responses || {}).join(", ")));
          box.append(section);
        }
      }
    })
    .catch(() => { box.textContent = "The OpenAPI document could not be loaded."; });
});
