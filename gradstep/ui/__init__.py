"""Qt widgets. They observe models and never compute autograd themselves."""
