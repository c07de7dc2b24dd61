" Vim syntax file
" Language:  mlp, the experiment language of mlc (*.mlp)
" Reference: grammar/Mlp.g4 (the syntax) and docs/language.md.
"            grammar/check_editor_grammars.py checks that every keyword and
"            operator of Mlp.g4 is highlighted here; it reads the `syn keyword`
"            and `syn match` lines below, so keep their patterns literal
"            (no :execute) and in magic mode (no \v or \V).
"
" Vim gives a match that starts at the same column as another the priority
" when it is defined later, and a `syn keyword` beats both, so the order of
" the sections below matters.

if exists('b:current_syntax')
  finish
endif
let s:cpo_save = &cpo
set cpo&vim

syn case match

" ---- operators and punctuation -------------------------------------------
" First, so the longer tokens defined after them (`->`, `..`, `...`, `>=`,
" `//`, numbers) win where they start at the same column.
syn match mlpOperator  "[-+*/%|~<>=]"
syn match mlpOperator  "[<>!]="
syn match mlpAccessor  "\."
syn match mlpOperator  "\.\.\.\="
syn match mlpDelimiter "[,;:]"
" `-> TYPE` after an extern's parameters.
syn match mlpArrow     "->" nextgroup=mlpType skipwhite skipnl
syn match mlpAnnotation "@\s*\h\w*"

" ---- names -----------------------------------------------------------------
" `name = ...`, `a.b ~ ...`: a field, a let name, a named argument or a swept
" path. Declaration keywords are names here too (`model = MLP()`).
syn match mlpField     "\.\@1<!\<\h\w*\%(\s*\.\s*\h\w*\)*\ze\s*[=~]" contains=mlpAccessor
" `{ train: 0.8 }`
syn match mlpRecordKey "\.\@1<!\<\h\w*\ze\s*:"
" `trainer { ... }`, but not the count of `repeat n {` / `repeat i in n {`.
syn match mlpBlockField "\%(\<\%(repeat\|in\)\s\+\)\@<!\<\h\w*\ze\s*{"
syn match mlpCall      "\<\h\w*\ze\s*("

" ---- keywords --------------------------------------------------------------
" Reserved: never names.
syn keyword mlpKeyword   in then on
syn keyword mlpObjective minimize maximize
syn keyword mlpBoolean   true false

" The other nine only begin declarations and statements; anywhere else they
" are names, so they are matches that step back where a name is certain:
" after `.` (`val.input`), before `=`, `~`, `:` or `.` (`model.hidden ~`),
" and where an expression ends (`x = model`, `f(input)`): as a keyword each
" has something after it on its line.
" Being defined after mlpCall, `repeat (n) {` stays a keyword.
syn match mlpImport      "\.\@1<!\<import\>\%(\s*\%([=~:,;)\]}]\|\.\.\@!\|$\)\)\@!"
syn match mlpDeclKeyword "\.\@1<!\<\%(dataset\|experiment\)\>\%(\s*\%([=~:,;)\]}]\|\.\.\@!\|$\)\)\@!" nextgroup=mlpDeclName skipwhite skipnl
syn match mlpDeclKeyword "\.\@1<!\<model\>\%(\s*\%([=~:,;)\]}]\|\.\.\@!\|$\)\)\@!" nextgroup=mlpModelName skipwhite skipnl
syn match mlpDeclKeyword "\.\@1<!\<extern\>\%(\s*\%([=~:,;)\]}]\|\.\.\@!\|$\)\)\@!" nextgroup=mlpExternKind skipwhite skipnl
syn match mlpPort        "\.\@1<!\<\%(input\|output\)\>\%(\s*\%([=~:,;)\]}]\|\.\.\@!\|$\)\)\@!" nextgroup=mlpPortName skipwhite
syn match mlpRepeat      "\.\@1<!\<repeat\>\%(\s*\%([=~:,;)\]}]\|\.\.\@!\|$\)\)\@!"
syn match mlpWhen        "\.\@1<!\<when\>\%(\s*\%([=~:,;)\]}]\|\.\.\@!\|$\)\)\@!"

" ---- declarations ----------------------------------------------------------
" dataset NAME, experiment NAME, model NAME(params), extern KIND NAME(params)
syn match mlpDeclName   "\h\w*" contained
syn match mlpModelName  "\h\w*" contained nextgroup=mlpParams skipwhite skipnl
syn match mlpExternKind "\h\w*" contained nextgroup=mlpExternName skipwhite skipnl
syn match mlpExternName "\h\w*" contained nextgroup=mlpParams skipwhite skipnl
" input NAME: TYPE, output NAME[: TYPE] = ...
syn match mlpPortName   "\h\w*" contained nextgroup=mlpTypeColon skipwhite

" Parameter lists: `name: TYPE [constraint] [= default]`. A region, so the
" `:` before a type can be told from a record's, and so that the `)` of an
" interval `in [0, 1)` does not close the list.
syn region mlpParams matchgroup=mlpBracket start="(" end=")" contained contains=mlpParamName,mlpInterval,@mlpExpr
syn match mlpParamName  "\<\h\w*\ze\s*:" contained nextgroup=mlpTypeColon skipwhite
syn match mlpTypeColon  ":" contained nextgroup=mlpType skipwhite skipnl

" Types: `int`, `f32[batch, ..., n]`, `enum(min, max)`, `list[metric]`,
" `int | string`.
syn match mlpType       "\<\h\w*\>" contained nextgroup=mlpShape,mlpEnumValues,mlpTypeUnion skipwhite
syn region mlpShape      matchgroup=mlpBracket start="\[" end="\]" contained contains=@mlpExpr nextgroup=mlpTypeUnion skipwhite
syn region mlpEnumValues matchgroup=mlpBracket start="(" end=")" contained contains=mlpEnumValue,mlpDelimiter,mlpLineComment,mlpBlockComment nextgroup=mlpTypeUnion skipwhite
syn match mlpEnumValue  "\<\h\w*\>" contained
syn match mlpTypeUnion  "|" contained nextgroup=mlpType skipwhite skipnl

" Brackets inside a parameter list or shape; at the top level they need no
" region, as nothing there depends on nesting. Every bracket region has a
" matchgroup: without one, Vim lets contained items start on the opening
" bracket itself, and mlpNested would swallow the `(` of mlpParams.
syn region mlpNested matchgroup=mlpBracket start="(" end=")" contained transparent contains=@mlpExpr
" `in [lo, hi)`: either bracket may close it. After mlpNested, so it wins.
syn region mlpInterval matchgroup=mlpBracket start="\%(\<in\s*\)\@<=[[(]" end="[])]" contained contains=@mlpExpr

" ---- literals ----------------------------------------------------------------
syn match mlpNumber    "\<\d\%(_\=\d\)*\>"
" Digits on both sides of the dot, so `0..64` is int, range, int.
syn match mlpFloat     "\<\d\%(_\=\d\)*\%(\.\d\%(_\=\d\)*\%([eE][+-]\=\d\+\)\=\|[eE][+-]\=\d\+\)\>"
" An exponent without digits (`1e`, `1.5e+`) is E0008.
syn match mlpBadNumber "\<\d\%(_\=\d\)*\%(\.\d\%(_\=\d\)*\)\=[eE]\%([+-]\d\@!\|[+-]\@!\d\@!\)"

" Strings are single-line: an unterminated one (E0005) ends at the line end.
syn region mlpString start=+"+ skip=+\\\\\|\\"+ end=+"+ end=+$+ contains=mlpBadEscape,mlpEscape,mlpPlaceholder
syn match mlpBadEscape   +\\.+ contained
syn match mlpEscape      +\\[\\"nt]+ contained
" Run-name templates of the track section: "{model}-{lr}".
syn match mlpPlaceholder +{\h[[:alnum:]_.]*}+ contained

" ---- comments ----------------------------------------------------------------
" Last, so `//` and `/*` beat the `/` operator.
syn keyword mlpTodo contained TODO FIXME XXX NOTE
syn match  mlpLineComment  "//.*$" contains=mlpTodo,@Spell
syn region mlpBlockComment start="/\*" end="\*/" contains=mlpTodo,@Spell

syn cluster mlpExpr contains=mlpLineComment,mlpBlockComment,mlpString,mlpNumber,mlpFloat,mlpBadNumber,mlpBoolean,mlpKeyword,mlpObjective,mlpCall,mlpNested,mlpOperator,mlpAccessor,mlpDelimiter

" Parameter lists and block comments span lines.
syn sync ccomment mlpBlockComment minlines=100

hi def link mlpOperator     Operator
hi def link mlpArrow        Operator
hi def link mlpTypeUnion    Operator
hi def link mlpAccessor     Delimiter
hi def link mlpDelimiter    Delimiter
hi def link mlpTypeColon    Delimiter
hi def link mlpAnnotation   PreProc
hi def link mlpField        Identifier
hi def link mlpRecordKey    Identifier
hi def link mlpBlockField   Identifier
hi def link mlpParamName    Identifier
hi def link mlpPortName     Identifier
hi def link mlpCall         Function
hi def link mlpDeclName     Function
hi def link mlpModelName    Function
hi def link mlpExternName   Function
hi def link mlpExternKind   StorageClass
hi def link mlpType         Type
hi def link mlpEnumValue    Constant
hi def link mlpKeyword      Keyword
hi def link mlpObjective    Keyword
hi def link mlpDeclKeyword  Keyword
hi def link mlpPort         Keyword
hi def link mlpImport       Include
hi def link mlpRepeat       Repeat
hi def link mlpWhen         Conditional
hi def link mlpBoolean      Boolean
hi def link mlpNumber       Number
hi def link mlpFloat        Float
hi def link mlpBadNumber    Error
hi def link mlpString       String
hi def link mlpEscape       SpecialChar
hi def link mlpBadEscape    Error
hi def link mlpPlaceholder  Special
hi def link mlpTodo         Todo
hi def link mlpLineComment  Comment
hi def link mlpBlockComment Comment

let b:current_syntax = 'mlp'

let &cpo = s:cpo_save
unlet s:cpo_save
