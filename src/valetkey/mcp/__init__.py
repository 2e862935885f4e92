"""The reference protected MCP server (`valetkey mcp serve`) and the pieces of the MCP
authorization profile it is built from: RFC 9728 metadata, token verification, challenges."""
