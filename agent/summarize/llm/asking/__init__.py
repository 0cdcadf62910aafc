"""Layer 2, asking: one structured question asked of one model (`ask.Asker.ask`), with what it
needs: the prompts, the schemas, lenient JSON parsing, the junk checks and the repairs."""
