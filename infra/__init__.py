"""Infrastructure code: the local stack, the model pipeline, benchmarks. Development only; never deployed."""
