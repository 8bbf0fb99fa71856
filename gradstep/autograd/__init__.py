"""The autograd core: run a snippet, trace its graph, record backward. No Qt here."""
