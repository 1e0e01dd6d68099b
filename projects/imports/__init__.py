"""Importing tasks: `readers` turn uploaded files into checked tasks (`images` for image files and ZIPs, `types`
for what they hand over), `image_urls` says which image URLs a task may name, `uploads` hashes uploads as they
stream in, `bulk` writes many rows fast, and `service` checks it all and writes it in one transaction."""
