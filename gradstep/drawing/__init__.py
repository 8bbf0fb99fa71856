"""networkx graph in, pictures out: layout (pure), style (pure), scene (Qt), export."""
