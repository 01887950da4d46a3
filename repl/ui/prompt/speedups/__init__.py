"""Steps of prompt_toolkit done in fewer Python steps with exactly its result: a drawing
(:mod:`.quickdraw`), the lookup of a key's bindings (:mod:`.quickkeys`) and the suggestion from
history (:mod:`.quicksuggest`)."""
