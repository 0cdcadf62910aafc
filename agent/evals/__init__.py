"""The prompt eval harness behind `digest eval`.

Cases (`evals/cases/*.yaml`, loaded by `cases`) are run through the offline engine (the
floor), the baseline prompts and the candidate prompts (`runner`); small scorer functions
(`scorers`, `scorers_text`, `scorers_judge`) turn each result into numbers with reasons;
`compare` sets candidate against baseline per scorer and decides the exit code; `report`
prints the table and writes the Markdown or HTML report; `session` ties it together.
"""
