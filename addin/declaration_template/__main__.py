"""``python -m addin.declaration_template``: regenerate the committed templates."""

from .output import write_templates

for path in write_templates():
    print(path)
