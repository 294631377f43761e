"""Language: the Chinese and English text helpers every later step reads through.

`text` (sentence ends, numbers such as 2.5万亿元, jieba words), `tokens` (tiktoken counts),
`timewords` (今年/明年 against a post's date), `lexicon` (names, roles, near-synonyms),
`crossling` (English words → Chinese terms), and `resources`, the Language object that bundles a
home's resources and is passed to whoever needs it.

May import: the base modules only.
"""
