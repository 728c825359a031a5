"""The XML namespaces of EPUB and XHTML, written once for the writers and the checks."""

XHTML = "http://www.w3.org/1999/xhtml"
EPUB = "http://www.idpf.org/2007/ops"
OPF = "http://www.idpf.org/2007/opf"
DC = "http://purl.org/dc/elements/1.1/"
CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"
NCX = "http://www.daisy.org/z3986/2005/ncx/"
MATHML = "http://www.w3.org/1998/Math/MathML"
SVG = "http://www.w3.org/2000/svg"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: Prefixes for XPath and ElementPath queries.
NS = {"opf": OPF, "dc": DC, "c": CONTAINER, "x": XHTML, "epub": EPUB, "ncx": NCX, "m": MATHML}
