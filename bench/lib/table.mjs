// Tables rendered two ways: aligned plain text for the terminal, GitHub Markdown for docs/benchmarks.md.

/** Numbers go right, words left: a column is right-aligned when every filled cell starts like a number. */
function alignments(headers, rows) {
  return headers.map((_, i) => {
    const filled = rows.map((r) => String(r[i] ?? '')).filter((c) => c && c !== '—' && c !== 'n/a');
    return filled.length > 0 && filled.every((c) => /^[\d.,−-]/.test(c)) ? 'r' : 'l';
  });
}

/** { title, headers: [...], rows: [[...]], notes: [...] } -> aligned text. */
export function textTable({ title, headers, rows, notes = [] }) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c ?? '')));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const align = alignments(headers, rows);
  const line = (r) => r.map((c, i) => (align[i] === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [];
  if (title) out.push(title, '='.repeat(Math.min(title.length, 100)));
  out.push(line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) out.push(line(r));
  for (const note of notes) out.push(`  * ${note}`);
  return out.join('\n');
}

export function markdownTable({ headers, rows }) {
  const escape = (c) => String(c ?? '').replace(/\|/g, '\\|');
  const rule = alignments(headers, rows).map((a) => (a === 'l' ? '---' : '---:'));
  return [headers, rule, ...rows].map((r, index) => `| ${(index === 1 ? r : r.map(escape)).join(' | ')} |`).join('\n');
}
