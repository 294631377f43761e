"""Analysis: what a question asks and what a sentence offers.

`question` profiles a question (its terms, the kind of answer asked for, the not-found sentinels);
`evidence` turns retrieved paragraphs into sentences with their numbers, years and names; `match`
scores how a sentence meets a question. The reader and verification share these.

May import: language and the base modules.
"""
