// On a phone a data table is shown one row per block; each cell then carries its column's
// heading (data-label, written by CSS before the value), so no value loses its meaning.
// Without this script the table stays a table and scrolls sideways: headings are never hidden
// unless the cells carry them.
(function () {
  "use strict";
  function headings(table) {
    const rows = table.tHead ? table.tHead.rows : [];
    if (!rows.length) return null;
    const labels = [];
    for (const cell of rows[rows.length - 1].cells) {
      for (let i = 0; i < cell.colSpan; i += 1) labels.push(cell.textContent.trim());
    }
    return labels;
  }
  for (const table of document.querySelectorAll("table.data")) {
    if (table.querySelector(".cell-label")) continue; // labels its cells itself
    const labels = headings(table);
    if (!labels) continue;
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        let column = 0;
        for (const cell of row.cells) {
          const label = labels[column];
          if (label) cell.dataset.label = label;
          column += cell.colSpan;
        }
      }
    }
    table.classList.add("labelled");
  }
})();
