"""The terminal front end: prompt loop, rendering, lexer, output writer."""
