" Run by grammar/vim/test.sh on sample.mlp: checks that given positions get
" the expected highlight group, and that ftdetect/ftplugin applied.
"
" Each check is [text of the line, token, nth occurrence of the token in that
" line (a whole word if the token is a word), expected group]. The group is a
" standard one the syntax item is linked to ('Keyword', 'Comment', ...; the
" first link is what counts, as the colorscheme may link on from there); ''
" means not highlighted at all. Every character of the token must have it.
let s:checks = [
  \ ['// Sample for', '//', 1, 'Comment'],
  \ ['model in when: comment words', 'model', 1, 'Comment'],
  \ ['model in when: comment words', 'when', 1, 'Comment'],
  \ ['import std.nn.*', 'import', 1, 'Include'],
  \ ['import std.nn.*', '*', 1, 'Operator'],
  \ ['import std.nn.*', 'std', 1, ''],
  \ ['/* a block comment', 'experiment', 1, 'Comment'],
  \ ['/* a block comment', '"quotes"', 1, 'Comment'],
  \ ['@goal(max) extern', '@goal', 1, 'PreProc'],
  \ ['@goal(max) extern', 'extern', 1, 'Keyword'],
  \ ['@goal(max) extern', 'metric', 1, 'StorageClass'],
  \ ['@goal(max) extern', 'accuracy', 1, 'Function'],
  \ ['extern layer linear', 'linear', 1, 'Function'],
  \ ['extern layer linear', 'x', 1, 'Identifier'],
  \ ['extern layer linear', 'f32', 1, 'Type'],
  \ ['extern layer linear', '...', 1, 'Operator'],
  \ ['extern layer linear', 'int', 1, 'Type'],
  \ ['extern layer linear', '>', 1, 'Operator'],
  \ ['extern layer linear', 'enum', 1, 'Type'],
  \ ['extern layer linear', 'min', 1, 'Constant'],
  \ ['extern layer linear', '->', 1, 'Operator'],
  \ ['extern layer linear', 'f32', 2, 'Type'],
  \ ['extern function env', 'string', 1, 'Type'],
  \ ['extern function env', '|', 1, 'Operator'],
  \ ['extern function env', 'int', 1, 'Type'],
  \ ['extern function env', 'in', 1, 'Keyword'],
  \ ['extern function env', 'string', 2, 'Type'],
  \ ['dataset digits', 'dataset', 1, 'Keyword'],
  \ ['dataset digits', 'digits', 1, 'Function'],
  \ ['dataset digits', 'csv', 1, 'Function'],
  \ ['dataset digits', '"data/digits.csv"', 1, 'String'],
  \ ['features = columns(0..64)', 'features', 1, 'Identifier'],
  \ ['features = columns(0..64)', '=', 1, 'Operator'],
  \ ['features = columns(0..64)', '0', 1, 'Number'],
  \ ['features = columns(0..64)', '..', 1, 'Operator'],
  \ ['features = columns(0..64)', '64', 1, 'Number'],
  \ ['features = columns(0..64)', ';', 1, 'Delimiter'],
  \ ['split = { train: 0.8', 'train', 1, 'Identifier'],
  \ ['split = { train: 0.8', '0.8', 1, 'Float'],
  \ ['path = "a // not', '// not a comment', 1, 'String'],
  \ ['path = "a // not', '\t', 1, 'SpecialChar'],
  \ ['path = "a // not', '\"', 1, 'SpecialChar'],
  \ ['bad = 1e', '1e', 1, 'Error'],
  \ ['bad = 1e', '\q', 1, 'Error'],
  \ ['model MLP(', 'model', 1, 'Keyword'],
  \ ['model MLP(', 'MLP', 1, 'Function'],
  \ ['model MLP(', 'hidden', 1, 'Identifier'],
  \ ['model MLP(', '128', 1, 'Number'],
  \ ['model MLP(', 'in', 1, 'Keyword'],
  \ ['input x: f32', 'input', 1, 'Keyword'],
  \ ['input x: f32', 'x', 1, 'Identifier'],
  \ ['input x: f32', 'f32', 1, 'Type'],
  \ ['repeat i in depth', 'repeat', 1, 'Repeat'],
  \ ['repeat i in depth', 'in', 1, 'Keyword'],
  \ ['repeat i in depth', 'depth', 1, ''],
  \ ['repeat i in depth', 'relu', 1, 'Function'],
  \ ['output logits', 'output', 1, 'Keyword'],
  \ ['y = f(input, model)', 'input', 1, ''],
  \ ['y = f(input, model)', 'model', 1, ''],
  \ ['y = f(input, model)', 'when', 1, ''],
  \ ['experiment digits_mlp', 'experiment', 1, 'Keyword'],
  \ ['experiment digits_mlp', 'digits_mlp', 1, 'Function'],
  \ ['model = MLP(hidden = 256)', 'model', 1, 'Identifier'],
  \ ['model = MLP(hidden = 256)', 'MLP', 1, 'Function'],
  \ ['schedule = warmup', 'then', 1, 'Keyword'],
  \ ['schedule = warmup', '1e-6', 1, 'Float'],
  \ ['trainer { epochs', 'trainer', 1, 'Identifier'],
  \ ['trainer { epochs', '1_000_000', 1, 'Number'],
  \ ['trainer { epochs', 'true', 1, 'Boolean'],
  \ ['trainer { epochs', 'false', 1, 'Boolean'],
  \ ['notify = webhook', 'on', 1, 'Keyword'],
  \ ['model.hidden ~ choice', 'model', 1, 'Identifier'],
  \ ['model.hidden ~ choice', '.', 1, 'Delimiter'],
  \ ['model.hidden ~ choice', 'hidden', 1, 'Identifier'],
  \ ['model.hidden ~ choice', '~', 1, 'Operator'],
  \ ['model.hidden ~ choice', 'when', 1, 'Conditional'],
  \ ['model.hidden ~ choice', 'model', 2, ''],
  \ ['model.hidden ~ choice', 'in', 1, 'Keyword'],
  \ ['objective = minimize', 'minimize', 1, 'Keyword'],
  \ ['other = maximize', 'maximize', 1, 'Keyword'],
  \ ['other = maximize', 'input', 1, ''],
  \ ]

let s:failures = []

" The highlight group a syntax item links to directly ('' if none), so that
" `mlpNumber -> Number` is seen even where the colorscheme links Number on
" to Constant.
function! s:Group(lnum, col) abort
  let name = synIDattr(synID(a:lnum, a:col, 1), 'name')
  if name ==# ''
    return ''
  endif
  return matchstr(execute('highlight ' . name), 'links to \zs\w\+')
endfunction

function! s:Check(linetext, token, nth, want) abort
  let lnum = search('\V' . escape(a:linetext, '\'), 'cw')
  if lnum == 0
    call add(s:failures, printf('no line containing %s', string(a:linetext)))
    return
  endif
  let line = getline(lnum)
  let pat = a:token =~# '^\w\+$' ? '\<' . a:token . '\>' : '\V' . escape(a:token, '\')
  let col = -1
  for _ in range(a:nth)
    let col = match(line, pat, col + 1)
  endfor
  if col < 0
    call add(s:failures, printf('line %d has no occurrence %d of %s', lnum, a:nth, string(a:token)))
    return
  endif
  for c in range(col + 1, col + len(a:token))
    let got = s:Group(lnum, c)
    if got !=# a:want
      call add(s:failures, printf('line %d col %d: %s (occurrence %d) is %s, expected %s [syntax item %s]',
            \ lnum, c, string(a:token), a:nth, got ==# '' ? 'not highlighted' : got,
            \ a:want ==# '' ? 'not highlighted' : a:want, synIDattr(synID(lnum, c, 1), 'name')))
      return
    endif
  endfor
endfunction

" An error while loading the syntax, ftdetect or ftplugin files (silent in
" -es mode) would otherwise go unnoticed.
if v:errmsg !=# ''
  call add(s:failures, 'Vim reported an error while loading the files: ' . v:errmsg)
endif
if &filetype !=# 'mlp'
  call add(s:failures, printf("filetype is '%s', expected 'mlp' (ftdetect/mlp.vim)", &filetype))
endif
if &commentstring !=# '// %s'
  call add(s:failures, printf("commentstring is '%s', expected '// %%s' (ftplugin/mlp.vim)", &commentstring))
endif
if &comments !~# '://'
  call add(s:failures, printf("comments is '%s', expected a '://' part (ftplugin/mlp.vim)", &comments))
endif
for s:c in s:checks
  call call('s:Check', s:c)
endfor

let s:report = map(copy(s:failures), '"FAIL: " . v:val')
call add(s:report, printf('mlp.vim: %d passed, %d failed', len(s:checks) + 4 - len(s:failures), len(s:failures)))
call writefile(s:report, $MLP_VIM_REPORT)
if empty(s:failures)
  qall!
endif
cquit!
