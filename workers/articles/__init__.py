"""Articles: reading inputs and staging them, the batch write path (pipeline, stories,
bulk index, alert matching) and the tasks that run it."""
