// Renders the OpenAPI document's operations and their parameters as plain HTML (no outside library or CDN).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("paths");
  const el = (tag, text) => {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
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
              const values = (p.schema && p.schema.enum) ? p.schema.enum.join(", ") : (p.schema && p.schema.type) || "";
              for (const text of [p.name, p.in, values, p.description || ""]) row.append(el("td", text));
              table.append(row);
            }
            section.append(table);
          }
          section.append(el("p", "Responses: " + Object.keys(op.responses || {}).join(", ")));
          box.append(section);
        }
      }
    })
    .catch(() => { box.textContent = "The OpenAPI document could not be loaded."; });
});
