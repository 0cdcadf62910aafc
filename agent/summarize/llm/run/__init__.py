"""What one run of the model path shares: the budget, the usage meter, the rate limit, the
answer and blurb caches, token counts and the progress line (nothing here calls a model)."""
