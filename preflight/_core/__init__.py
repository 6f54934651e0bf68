"""The pure core: sizes, names and header facts in, decisions out.

No module here reads files, opens the network or imports an image library;
numpy is imported only inside the vectorized paths, when they are called.
"""
