"""OAIS Access: exports of stored AIPs and access packages (DIPs) for readers."""
