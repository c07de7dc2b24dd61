" Filetype settings for the mlp experiment language (*.mlp).
if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

" `gc`-style plugins and `:h 'commentstring'` comment with `// `.
setlocal commentstring=//\ %s
" `/* */` block comments (middle lines may start with `*`) and `//` lines,
" so `gq` and auto-wrap continue them.
setlocal comments=s1:/*,mb:*,ex:*/,://
setlocal formatoptions-=t formatoptions+=croql

let b:undo_ftplugin = 'setlocal commentstring< comments< formatoptions<'
