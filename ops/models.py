"""The site's runtime keeps no tables. This module exists so that Django sends ``post_migrate``
for the ops app (it does so only for apps with a models module): ``ops.pooler`` hooks it."""
