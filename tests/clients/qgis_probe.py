"""Run by Debian's /usr/bin/python3 (QGIS 3.22's bindings live there, not in the project's
virtualenv): add each OGC collection and each vector-tile layer of a running bordermark as
a QGIS user does, with a stock Basic authentication configuration (the token as the
password), and print what QGIS made of them as one JSON object.

    python3 qgis_probe.py BASE_URL TOKEN PROFILE_DIR PNG_DIR
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsCredentialsNone,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def main() -> None:
    base, token, profile, png_dir = sys.argv[1:5]
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False, profile)
    app.initQgis()
    # A refused sign-in makes QGIS ask for credentials; headless, its console prompt would
    # wait on stdin for ever. QgsCredentialsNone answers "none" at once.
    no_prompt = QgsCredentialsNone()
    auth = app.authManager()
    auth.setMasterPassword("bordermark-tests", True)
    config = QgsAuthMethodConfig("Basic")
    config.setName("bordermark")
    config.setConfig("username", "qgis")
    config.setConfig("password", token)
    stored = auth.storeAuthenticationConfig(config)
    assert stored[0] if isinstance(stored, tuple) else stored, "auth config not stored"
    authcfg = config.id()

    layers = json.loads(os.environ["PROBE_COLLECTIONS"])
    report: dict = {"collections": {}, "tiles": {}}
    for name in layers:
        layer = QgsVectorLayer(f"url={base}/ogc typename={name} authcfg={authcfg}", name, "OAPIF")
        entry: dict = {"valid": layer.isValid()}
        if layer.isValid():
            entry["feature_count"] = layer.featureCount()
            entry["wkb_type"] = QgsWkbTypes.displayString(layer.wkbType())
            entry["crs"] = layer.crs().authid()
            ids, types = [], {}
            for feature in layer.getFeatures():
                ids.append(str(feature["id"]) if "id" in feature.fields().names() else None)
                kind = QgsWkbTypes.displayString(feature.geometry().wkbType())
                types[kind] = types.get(kind, 0) + 1
            entry["iterated"] = sum(types.values())
            entry["geometry_types"] = types
        # (layer.error() of an OAPIF layer that failed to load crashes QGIS 3.22.)
        report["collections"][name] = entry

    for name in json.loads(os.environ["PROBE_TILE_LAYERS"]):
        uri = (
            f"type=xyz&url={base}/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt"
            f"&zmin=0&zmax=14&authcfg={authcfg}"
        )
        layer = QgsVectorTileLayer(uri, name)
        entry = {"valid": layer.isValid()}
        if layer.isValid():
            settings = QgsMapSettings()
            settings.setLayers([layer])
            settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
            # Lạng Sơn's stretch of the border, around marker 1089.
            settings.setExtent(QgsRectangle(11_800_000, 2_520_000, 11_900_000, 2_600_000))
            settings.setOutputSize(QSize(512, 512))
            settings.setBackgroundColor(QColor(255, 255, 255))
            # As QGIS's own canvas renders: in parallel, the main thread free to answer the
            # network's questions (a refused sign-in asks for credentials there; a
            # sequential job, blocking that thread, would wait on itself).
            job = QgsMapRendererParallelJob(settings)
            job.start()
            while job.isActive():
                app.processEvents()
            image = job.renderedImage()
            path = os.path.join(png_dir, f"{name}.png")
            image.save(path)
            drawn = sum(
                1
                for x in range(0, image.width(), 2)
                for y in range(0, image.height(), 2)
                if image.pixelColor(x, y).getRgb()[:3] != (255, 255, 255)
            )
            entry.update(png=path, drawn_pixels=drawn, errors=list(job.errors()))
        report["tiles"][name] = entry
    print(json.dumps(report))
    del no_prompt
    app.exitQgis()


main()
