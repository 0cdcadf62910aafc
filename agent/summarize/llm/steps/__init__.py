"""The model steps: grouping, blurbs, the headline and overview, query expansion, the relevance
pass and the ping. Each asks its questions through `asking` and has an offline counterpart
that the fallback chain (`fallback`) ends with."""
