from .table import COPY_SUFFIX, XlsxTable

__all__ = ["COPY_SUFFIX", "XlsxTable"]
