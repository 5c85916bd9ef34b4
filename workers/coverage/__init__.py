"""Coverage over time: the aggregations behind `mediamon coverage` and the HTML report."""
