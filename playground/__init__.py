"""CNN Playground engine: pure PyTorch code with no user-interface imports."""
