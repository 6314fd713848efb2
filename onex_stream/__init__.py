"""onex_stream: the ONEX Runtime Host as a Kafka stream processor on Faust agents."""
