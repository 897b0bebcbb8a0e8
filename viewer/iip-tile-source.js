// IIP, the protocol of iipsrv that Tessera answers at /iip, as an
// OpenSeadragon tile source on pages of one's own:
//
//   <div id="scan" style="height: 600px"></div>
//   <script src="https://images.example.org/viewer/openseadragon/openseadragon.min.js"></script>
//   <script src="https://images.example.org/viewer/iip-tile-source.js"></script>
//   <script>
//     OpenSeadragon({
//       element: document.getElementById('scan'),
//       tileSources: Tessera.iipTileSource('https://images.example.org/iip', 'scans/atlas.tif'),
//     });
//   </script>
//
// OpenSeadragon 6 has the IIP client itself (OpenSeadragon.IIPTileSource:
// it asks for OBJ=IIP,1.0, Max-size, Tile-size, Resolution-number and
// Resolutions, then builds JTL tile URLs), so this only writes its
// configuration. That class pastes the image name into the query string as
// it is given, and a name with '&', '+', '#', '%' or a space would then ask
// for another file or none: here the name is percent-encoded, as IIP
// servers decode FIF. Options: format ('jpg', 'png' or 'webp' for JTL, PTL
// or WTL tiles) and the other options of OpenSeadragon.IIPTileSource.
(function () {
  function iipTileSource(server, image, options = {}) {
    if (!window.OpenSeadragon || !window.OpenSeadragon.IIPTileSource) {
      throw new Error('Tessera.iipTileSource needs OpenSeadragon 6 or later on the page');
    }
    // Slashes are allowed in a query string and keep paths readable.
    const fif = encodeURIComponent(String(image)).replace(/%2F/gi, '/');
    return { ...options, iipsrv: String(server), image: fif };
  }

  window.Tessera = Object.assign(window.Tessera || {}, { iipTileSource });
})();
