// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Shared types of Hallmark collections
/// @notice The drop configuration a registry hands to a new collection, in the manner of Zora's ERC721Drop.
interface IHallmarkCollection {
    /// @notice How a token may move after it is minted, fixed when the collection is created.
    enum TransferPolicy {
        Transferable, // ordinary ERC-721 transfers
        Soulbound, // never transferable (ERC-5192 locked), burnable by its holder
        HoldingPeriod // transferable once `holdingPeriod` seconds have passed since the token was minted
    }

    /// @notice Everything a collection is created with.
    /// @param baseURI Empty to use the registry's metadata host (the cheap default), or a host of the drop's own.
    /// @param contentRoot Merkle root over every serial's (serial, image SHA-256, metadata SHA-256) leaf; see
    ///        HallmarkCollection for the leaf encoding. It is fixed for the life of the collection.
    struct CollectionConfig {
        string name;
        string symbol;
        string baseURI;
        uint64 maxSupply;
        TransferPolicy transferPolicy;
        uint64 holdingPeriod;
        address royaltyReceiver;
        uint96 royaltyBps;
        bytes32 contentRoot;
        address admin;
        address operator;
    }

    /// @notice A one-call summary of the drop's state, like Zora's `saleDetails()`.
    struct DropDetails {
        uint64 maxSupply;
        uint64 totalMinted;
        uint64 totalBurned;
        TransferPolicy transferPolicy;
        uint64 holdingPeriod;
        bool paused;
        bytes32 contentRoot;
        address registry;
    }
}
