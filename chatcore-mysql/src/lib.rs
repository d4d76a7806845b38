//! MySQL/MariaDB storage for chatcore.
