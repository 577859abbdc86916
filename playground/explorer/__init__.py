"""The convolution explorer's engine: one layer's arithmetic (sizes, stages, step-through, receptive fields)."""
