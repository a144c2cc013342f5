from django.contrib.staticfiles.apps import StaticFilesConfig


class ClosetlineStaticFilesConfig(StaticFilesConfig):
    """django.contrib.staticfiles, leaving out the parts of npm packages the pages do not load.

    graphiql's unminified bundle names a source map its package does not ship, which the manifest
    storage of production refuses; its esm/ and dist/ trees are for bundlers.
    """

    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "graphiql.js",
        "graphiql.css",
        "esm",
        "dist",
        "*.d.ts",
        "*.md",
        "src",
    ]
